// flexasr_isqrt: floor(sqrt(x)) of a 64-bit unsigned integer by the digit-by-digit (restoring)
// method, two radicand bits per cycle. `start` loads x; `done` pulses 32 cycles later with `root`
// held until the next start. Latency 32 cycles.
module flexasr_isqrt (
    input  wire        clk,
    input  wire        rst,
    input  wire        start,
    input  wire [63:0] x,
    output reg  [31:0] root,
    output reg         done
);
    reg [63:0] rad;
    reg [33:0] rem;
    reg [5:0]  count;
    reg        active;
    wire [33:0] cur   = {rem[31:0], rad[63:62]};
    wire [33:0] trial = {root, 2'b01};
    wire        fits  = cur >= trial;

    always @(posedge clk) begin
        done <= 1'b0;
        if (rst) begin
            active <= 1'b0;
        end else if (start) begin
            rad    <= x;
            rem    <= 34'd0;
            root   <= 32'd0;
            count  <= 6'd0;
            active <= 1'b1;
        end else if (active) begin
            rad   <= rad << 2;
            rem   <= fits ? cur - trial : cur;
            root  <= {root[30:0], fits};
            count <= count + 6'd1;
            if (count == 6'd31) begin
                active <= 1'b0;
                done   <= 1'b1;
            end
        end
    end

    // verilator lint_off UNUSEDSIGNAL
    wire unused = ^rem[33:32];
    // verilator lint_on UNUSEDSIGNAL
endmodule
