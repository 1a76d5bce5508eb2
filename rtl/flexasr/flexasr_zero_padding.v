// flexasr_zero_padding: ZERO_PADDING (ila_models/flexasr_gb.py `zero_padding`): every vector of
// timesteps num_timestep_1 .. num_timestep_2 - 1 of block memory_index_1 of the large buffer <- 0.
// Latency: 1 cycle per vector plus 1.
module flexasr_zero_padding (
    input  wire         clk,
    input  wire         rst,
    input  wire         start,
    input  wire [127:0] cfg,        // zero_padding beat
    input  wire [127:0] cfg_large,  // mem_mngr_large beat
    output wire         buf_we,
    output wire [15:0]  buf_waddr,
    output reg          done
);
    wire [1:0]  index = cfg[33:32];
    wire [7:0]  nv    = cfg[55:48];
    wire [15:0] nt1   = cfg[79:64];
    wire [15:0] nt2   = cfg[95:80];
    wire [15:0] base  = cfg_large[32*index + 16 +: 16];

    reg        active;
    reg [15:0] t;
    reg [7:0]  v;
    flexasr_timestep_row u_row (.base(base), .nv(nv), .ts({1'b0, t}), .v(v), .row(buf_waddr));
    assign buf_we = active;

    always @(posedge clk) begin
        done <= 1'b0;
        if (rst) begin
            active <= 1'b0;
        end else if (!active) begin
            if (start) begin
                t <= nt1;
                v <= 8'd0;
                if (nt1 >= nt2 || nv == 8'd0) done <= 1'b1;
                else active <= 1'b1;
            end
        end else if (v + 8'd1 == nv) begin
            v <= 8'd0;
            t <= t + 16'd1;
            if (t + 16'd1 == nt2) begin
                active <= 1'b0;
                done   <= 1'b1;
            end
        end else begin
            v <= v + 8'd1;
        end
    end

    // verilator lint_off UNUSEDSIGNAL
    wire unused = ^{cfg[127:96], cfg[63:56], cfg[47:34], cfg[31:0]};
    // verilator lint_on UNUSEDSIGNAL
endmodule
