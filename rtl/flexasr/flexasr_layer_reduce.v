// flexasr_layer_reduce: LAYER_REDUCE (ila_models/flexasr_gb.py `layer_reduce`), in place on block
// memory_index_1 of the large buffer: for j < num_timestep_1 // 2 and vector v < num_vector_1,
// timesteps 2j and 2j+1 -> timestep j, per element on bias-0 fixed values: max (mode 0, re-encoded
// exactly), mean (1: (a+b)/2, encoded from 15 fractional bits) or add (2: a+b); bias 0.
// Latency: 3 cycles per vector plus 1.
module flexasr_layer_reduce (
    input  wire         clk,
    input  wire         rst,
    input  wire         start,
    input  wire [127:0] cfg,        // layer_reduce beat
    input  wire [127:0] cfg_large,  // mem_mngr_large beat
    output wire [15:0]  buf_raddr,
    input  wire [127:0] buf_rdata,
    output wire         buf_we,
    output wire [15:0]  buf_waddr,
    output wire [127:0] buf_wdata,
    output reg          done
);
    localparam logic [1:0] S_IDLE = 2'd0, S_RA = 2'd1, S_RB = 2'd2, S_W = 2'd3;

    wire [1:0]  mode  = cfg[9:8];
    wire [1:0]  index = cfg[33:32];
    wire [7:0]  nv    = cfg[55:48];
    wire [14:0] pairs = cfg[79:65];
    wire [15:0] base  = cfg_large[32*index + 16 +: 16];

    reg [1:0]   state;
    reg [14:0]  pair;
    reg [7:0]   v;
    reg [127:0] a_codes;

    wire [16:0] ts = state == S_RA ? {1'b0, pair, 1'b0} : (state == S_RB ? {1'b0, pair, 1'b1} : {2'd0, pair});
    wire [15:0] row;
    flexasr_timestep_row u_row (.base(base), .nv(nv), .ts(ts), .v(v), .row(row));

    genvar k;
    generate
        for (k = 0; k < 16; k = k + 1) begin : g_lane
            wire signed [19:0] a, b;
            flexasr_adpf_decode u_da (.code(a_codes[8*k +: 8]), .bias(3'd0), .value(a));
            flexasr_adpf_decode u_db (.code(buf_rdata[8*k +: 8]), .bias(3'd0), .value(b));
            wire signed [31:0] a32 = {{12{a[19]}}, a};
            wire signed [31:0] b32 = {{12{b[19]}}, b};
            wire signed [31:0] r = mode == 2'd0 ? (a32 > b32 ? a32 : b32) : a32 + b32;
            flexasr_adpf_encode u_enc (.x(r), .k(mode == 2'd1 ? 4'd1 : 4'd0), .code(buf_wdata[8*k +: 8]));
        end
    endgenerate

    assign buf_raddr = row;
    assign buf_we    = state == S_W;
    assign buf_waddr = row;

    always @(posedge clk) begin
        done <= 1'b0;
        if (rst) begin
            state <= S_IDLE;
        end else begin
            case (state)
                S_IDLE: if (start) begin
                    pair <= 15'd0;
                    v    <= 8'd0;
                    if (pairs == 15'd0 || nv == 8'd0) done <= 1'b1;
                    else state <= S_RA;
                end
                S_RA: state <= S_RB;
                S_RB: begin
                    a_codes <= buf_rdata;
                    state   <= S_W;
                end
                S_W: begin
                    state <= S_RA;
                    if (v + 8'd1 == nv) begin
                        v    <= 8'd0;
                        pair <= pair + 15'd1;
                        if (pair + 15'd1 == pairs) begin
                            state <= S_IDLE;
                            done  <= 1'b1;
                        end
                    end else begin
                        v <= v + 8'd1;
                    end
                end
                default: state <= S_IDLE;
            endcase
        end
    end

    // verilator lint_off UNUSEDSIGNAL
    wire unused = ^{cfg[127:80], cfg[64], cfg[63:56], cfg[47:34], cfg[31:10], cfg[7:0]};
    // verilator lint_on UNUSEDSIGNAL
endmodule
