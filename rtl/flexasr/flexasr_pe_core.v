// flexasr_pe_core: a PE's MAC and bias stages (ila_models/flexasr_gb.py `pe_core`). For output
// o < num_output and manager m < num_manager it accumulates, in 16 lanes of 32 bits (wrapping),
// the products of the manager's num_input input vectors with the 16x16 weight blocks at
// base_weight + (o num_input + i) * 16 (8 rows of 4-bit cluster-table indices when is_cluster),
// one weight row (one lane) per cycle; or 0 when is_zero_first and the manager's zero_active.
// Then act = sat20((acc >> (14 - bw - bi)) + fixed(bias row base_bias + o, bb)) (bias when is_bias)
// goes to core output o * num_manager + m. Latency per (o, m): 16 num_input + 4 cycles.
module flexasr_pe_core (
    input  wire         clk,
    input  wire         rst,
    input  wire         start,
    input  wire [127:0] sizing,     // rnn_layer_sizing beat
    input  wire [127:0] mgr_first,  // mem_mngr_first
    input  wire [127:0] mgr_second, // mem_mngr_second
    input  wire [127:0] table_first,
    input  wire [127:0] table_second,
    output wire [15:0]  w_raddr,
    input  wire [127:0] w_rdata,
    output wire [7:0]   in_raddr,
    input  wire [127:0] in_rdata,
    output wire         co_we,
    output wire [8:0]   co_addr,
    output wire [319:0] co_wdata,
    output wire         active,
    output reg          done
);
    localparam logic [2:0] S_IDLE = 3'd0, S_SETUP = 3'd1, S_MAC = 3'd2, S_DRAIN = 3'd3,
                           S_BIAS_REQ = 3'd4, S_BIAS = 3'd5;

    wire       is_zero_first = sizing[8];
    wire       is_cluster    = sizing[16];
    wire       is_bias       = sizing[24];
    wire [1:0] num_manager   = sizing[33:32];
    wire [7:0] num_output    = sizing[47:40];

    reg [2:0]  state;
    reg [7:0]  o;
    reg        m;
    reg [11:0] c;          // weight row counter over the manager's num_input x 16 lanes
    reg [15:0] blk_base;   // first weight row of block (o, 0)
    reg        p1_valid;   // a weight row is arriving this cycle
    reg [3:0]  p1_lane;
    reg [31:0] acc [0:15];

    wire [127:0] mg          = m ? mgr_second : mgr_first;
    wire         zero_active = mg[0];
    wire [2:0]   bias_w      = mg[10:8];
    wire [2:0]   bias_b      = mg[18:16];
    wire [2:0]   bias_i      = mg[26:24];
    wire [7:0]   num_input   = mg[39:32];
    wire [15:0]  base_weight = mg[63:48];
    wire [7:0]   base_bias   = mg[71:64];
    wire [7:0]   base_input  = mg[87:80];
    wire [127:0] table_m     = m ? table_second : table_first;
    wire [11:0]  c_last      = {num_input, 4'd0} - 12'd1;
    wire [15:0]  o_times_ni  = {8'd0, o} * {8'd0, num_input};

    assign w_raddr  = blk_base + (is_cluster ? {5'd0, c[11:1]} : {4'd0, c});
    assign in_raddr = (state == S_BIAS_REQ) ? base_bias + o : base_input + c[11:4];
    assign active   = state != S_IDLE;

    // the weight codes of the lane arriving: the row itself, or its cluster-table lookups
    wire [127:0] w_codes;
    genvar k;
    generate
        for (k = 0; k < 16; k = k + 1) begin : g_cluster
            wire [3:0] idx = p1_lane[0] ? w_rdata[8*k+4 +: 4] : w_rdata[8*k +: 4];
            assign w_codes[8*k +: 8] = is_cluster ? table_m[8*idx +: 8] : w_rdata[8*k +: 8];
        end
    endgenerate
    wire signed [31:0] dot;
    flexasr_mac16 u_mac (.w(w_codes), .x(in_rdata), .sum(dot));

    // bias stage, 16 lanes
    wire [3:0] shift = 4'd14 - {1'b0, bias_w} - {1'b0, bias_i};
    generate
        for (k = 0; k < 16; k = k + 1) begin : g_bias
            wire signed [19:0] b;
            flexasr_adpf_decode u_dec (.code(in_rdata[8*k +: 8]), .bias(bias_b), .value(b));
            wire signed [32:0] sum = ($signed({acc[k][31], acc[k]}) >>> shift) + (is_bias ? $signed({{13{b[19]}}, b}) : 33'sd0);
            assign co_wdata[20*k +: 20] = (sum > 33'sd524287) ? 20'sd524287 :
                                          (sum < -33'sd524288) ? -20'sd524288 : sum[19:0];
        end
    endgenerate
    assign co_we   = state == S_BIAS;
    assign co_addr = {1'b0, o} * {8'd0, num_manager[1]} + {1'b0, o} + {8'd0, m};  // o * nm + m

    integer j;
    always @(posedge clk) begin
        done     <= 1'b0;
        p1_valid <= 1'b0;
        if (p1_valid) acc[p1_lane] <= acc[p1_lane] + dot;
        if (rst) begin
            state <= S_IDLE;
        end else begin
            case (state)
                S_IDLE: if (start) begin
                    o <= 8'd0;
                    m <= 1'b0;
                    if (num_output == 8'd0 || num_manager == 2'd0) done <= 1'b1;
                    else state <= S_SETUP;
                end
                S_SETUP: begin
                    for (j = 0; j < 16; j = j + 1) acc[j] <= 32'd0;
                    c        <= 12'd0;
                    blk_base <= base_weight + (is_cluster ? {o_times_ni[12:0], 3'd0} : {o_times_ni[11:0], 4'd0});
                    state    <= (is_zero_first && zero_active) || num_input == 8'd0 ? S_BIAS_REQ : S_MAC;
                end
                S_MAC: begin
                    p1_valid <= 1'b1;
                    p1_lane  <= c[3:0];
                    c        <= c + 12'd1;
                    if (c == c_last) state <= S_DRAIN;
                end
                S_DRAIN:    state <= S_BIAS_REQ;
                S_BIAS_REQ: state <= S_BIAS;
                S_BIAS: begin
                    state <= S_SETUP;
                    if (m == 1'b0 && num_manager == 2'd2) begin
                        m <= 1'b1;
                    end else begin
                        m <= 1'b0;
                        o <= o + 8'd1;
                        if (o + 8'd1 == num_output) begin
                            state <= S_IDLE;
                            done  <= 1'b1;
                        end
                    end
                end
                default: state <= S_IDLE;
            endcase
        end
    end

    // verilator lint_off UNUSEDSIGNAL
    wire unused = ^{sizing[127:48], sizing[39:34], sizing[31:25], sizing[23:17], sizing[15:9], sizing[7:0],
                    mg[127:88], mg[79:72], mg[47:40], mg[31:27], mg[23:19], mg[15:11], mg[7:1],
                    o_times_ni[15:13]};
    // verilator lint_on UNUSEDSIGNAL
endmodule
