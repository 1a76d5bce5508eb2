// flexasr_divider: unsigned restoring division, one quotient bit per cycle:
// quotient = dividend / divisor, remainder = dividend % divisor (divisor != 0; the callers
// guarantee it). `start` loads the operands; `done` pulses 64 cycles later with the results held
// until the next start. Latency 64 cycles.
module flexasr_divider (
    input  wire        clk,
    input  wire        rst,
    input  wire        start,
    input  wire [63:0] dividend,
    input  wire [31:0] divisor,
    output reg  [63:0] quotient,
    output reg  [31:0] remainder,
    output reg         done
);
    reg [6:0]  count;
    reg        active;
    reg [31:0] den;
    wire [32:0] shifted = {remainder, quotient[63]};
    wire [32:0] diff    = shifted - {1'b0, den};

    always @(posedge clk) begin
        done <= 1'b0;
        if (rst) begin
            active <= 1'b0;
        end else if (start) begin
            quotient  <= dividend;
            remainder <= 32'd0;
            den       <= divisor;
            count     <= 7'd0;
            active    <= 1'b1;
        end else if (active) begin
            if (!diff[32]) begin
                remainder <= diff[31:0];
                quotient  <= {quotient[62:0], 1'b1};
            end else begin
                remainder <= shifted[31:0];
                quotient  <= {quotient[62:0], 1'b0};
            end
            count <= count + 7'd1;
            if (count == 7'd63) begin
                active <= 1'b0;
                done   <= 1'b1;
            end
        end
    end
endmodule
