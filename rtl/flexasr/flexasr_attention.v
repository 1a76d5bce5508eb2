// flexasr_attention: GB ATTENTION (ila_models/flexasr_gb.py `attention`, docs/flexasr.md).
// Query q: num_vector_1 rows of small block memory_index_2 (adpbias_2); keys = values K: timesteps
// 0..T-1 (T = num_timestep_1) of large block memory_index_1 (adpbias_1). Integers (14 fractional
// bits for decoded operands, Q20 for scores, exponentials and weights):
//   pass 1 (scores):  s_t = sat32((K_t . q) >>> 8), kept in a 4096-entry score memory; m = max s_t
//   pass 2 (exp):     e_t = exp(s_t - m) by `flexasr_attn_exp`; S = sum e_t
//   divide:           R = floor(2^52 / S)  (64-cycle `flexasr_divider`)
//   pass 3 (softmax): w_t = (e_t R) >> 32
//   pass 4 (weights): small row qbase + 2 nv + j = codes of w_{16j..16j+15} (adpbias_3; 0 past T)
//   pass 5 (context): c = (sum_t w_t K_t) >>> 20 per lane, small row qbase + nv + v (adpbias_4)
// Latency: 1 + T (2 nv + 1) + T + 66 + T + ceil(T/16) + nv (2 T + 1) cycles (+1 for done).
module flexasr_attention (
    input  wire         clk,
    input  wire         rst,
    input  wire         start,
    input  wire [127:0] cfg,        // attention beat
    input  wire [127:0] cfg_large,  // mem_mngr_large beat
    input  wire [127:0] cfg_small,  // mem_mngr_small beat
    output wire [15:0]  buf_raddr,  // large buffer: keys / values
    input  wire [127:0] buf_rdata,
    output wire [9:0]   gb_raddr,   // small buffer: query
    input  wire [127:0] gb_rdata,
    output wire         gb_we,      // small buffer: context and weights
    output wire [9:0]   gb_waddr,
    output wire [127:0] gb_wdata,
    output reg          done
);
    localparam logic [3:0] S_IDLE = 4'd0, S_SREQ = 4'd1, S_SACC = 4'd2, S_SEND = 4'd3, S_EXP = 4'd4,
                           S_DIV_GO = 4'd5, S_DIV_WAIT = 4'd6, S_PROB = 4'd7, S_WROW = 4'd8,
                           S_CREQ = 4'd9, S_CACC = 4'd10, S_CWR = 4'd11;

    wire [1:0]  index1 = cfg[33:32];
    wire [2:0]  index2 = cfg[42:40];
    wire [7:0]  nv     = cfg[55:48];
    wire [15:0] nt     = cfg[79:64];
    wire [2:0]  bias1  = cfg[98:96];
    wire [2:0]  bias2  = cfg[106:104];
    wire [2:0]  bias3  = cfg[114:112];
    wire [2:0]  bias4  = cfg[122:120];
    wire [15:0] base   = cfg_large[32*index1 + 16 +: 16];
    wire [9:0]  qbase  = cfg_small[16*index2 +: 10];

    reg [3:0]          state;
    reg [15:0]         t;
    reg [7:0]          v;
    reg [11:0]         j;
    reg signed [63:0]  acc;
    reg signed [31:0]  smax;
    reg [63:0]         sum;
    reg [32:0]         recip;
    reg [31:0]         smem [0:4095];  // scores, then exponentials, then weights
    reg                div_start;
    wire [63:0]        quotient;
    wire [31:0]        remainder;
    wire               div_done;

    flexasr_divider u_div (
        .clk(clk), .rst(rst), .start(div_start), .dividend(64'd1 << 52), .divisor(sum[31:0]),
        .quotient(quotient), .remainder(remainder), .done(div_done)
    );

    wire [15:0] row;
    flexasr_timestep_row u_row (.base(base), .nv(nv), .ts({1'b0, t}), .v(v), .row(row));
    assign buf_raddr = row;
    assign gb_raddr  = qbase + {2'd0, v};

    wire [31:0] cur = smem[t[11:0]];
    wire [20:0] e_t;
    flexasr_attn_exp u_exp (.d($signed({cur[31], cur}) - $signed({smax[31], smax})), .e(e_t));

    // per lane: the dot-product terms (pass 1), the weighted values (pass 5), the output codes
    wire signed [63:0] term [0:15];
    wire [127:0]       ctx_codes, w_codes;
    genvar k;
    generate
        for (k = 0; k < 16; k = k + 1) begin : g_lane
            wire signed [19:0] kv, qv;
            flexasr_adpf_decode u_dk (.code(buf_rdata[8*k +: 8]), .bias(bias1), .value(kv));
            flexasr_adpf_decode u_dq (.code(gb_rdata[8*k +: 8]), .bias(bias2), .value(qv));
            wire signed [39:0] qk = kv * qv;
            assign term[k] = {{24{qk[39]}}, qk};
            reg  signed [63:0] cacc;
            wire signed [63:0] wk = $signed({32'd0, cur}) * $signed({{44{kv[19]}}, kv});
            always @(posedge clk) begin
                if (state == S_CACC) cacc <= cacc + wk;
                else if (state == S_IDLE || state == S_CWR) cacc <= 64'sd0;
            end
            wire signed [63:0] c = cacc >>> 20;
            flexasr_adpf_encode u_ec (.x(c[31:0]), .k({1'b0, bias4}), .code(ctx_codes[8*k +: 8]));
            // verilator lint_off UNUSEDSIGNAL
            wire unused_c = ^c[63:32];  // |c| <= max |value| < 2^19: a convex mix of the values
            // verilator lint_on UNUSEDSIGNAL
            wire [15:0] tw = {j, 4'd0} + 16'(k);
            wire [7:0]  wc;
            flexasr_adpf_encode u_ew (.x(smem[tw[11:0]]), .k({1'b0, bias3} + 4'd6), .code(wc));
            assign w_codes[8*k +: 8] = tw < nt ? wc : 8'd0;
        end
    endgenerate
    wire signed [63:0] dot = term[0] + term[1] + term[2] + term[3] + term[4] + term[5] + term[6] + term[7] +
                             term[8] + term[9] + term[10] + term[11] + term[12] + term[13] + term[14] + term[15];
    wire signed [63:0] acc_next = acc + dot;
    wire signed [63:0] shifted  = acc >>> 8;
    wire signed [31:0] score = shifted > 64'sd2147483647 ? 32'sh7FFFFFFF
                             : (shifted < -64'sd2147483648 ? 32'sh80000000 : shifted[31:0]);
    wire [63:0] prob = {43'd0, cur[20:0]} * {31'd0, recip};

    assign gb_we    = state == S_WROW || state == S_CWR;
    assign gb_waddr = state == S_WROW ? qbase + {1'b0, nv, 1'b0} + j[9:0] : qbase + {2'd0, nv} + {2'd0, v};
    assign gb_wdata = state == S_WROW ? w_codes : ctx_codes;

    wire last_v = v + 8'd1 == nv;
    wire last_t = t + 16'd1 == nt;

    always @(posedge clk) begin
        done      <= 1'b0;
        div_start <= 1'b0;
        if (rst) begin
            state <= S_IDLE;
        end else begin
            case (state)
                S_IDLE: if (start) begin
                    t   <= 16'd0;
                    v   <= 8'd0;
                    j   <= 12'd0;
                    acc <= 64'sd0;
                    sum <= 64'd0;
                    if (nv == 8'd0 || nt == 16'd0) done <= 1'b1;
                    else state <= S_SREQ;
                end
                // pass 1: key row and query row requested, then multiplied and summed
                S_SREQ: state <= S_SACC;
                S_SACC: begin
                    acc   <= acc_next;
                    state <= last_v ? S_SEND : S_SREQ;
                    v     <= last_v ? 8'd0 : v + 8'd1;
                end
                S_SEND: begin
                    smem[t[11:0]] <= score;
                    if (t == 16'd0 || score > smax) smax <= score;
                    acc <= 64'sd0;
                    t   <= last_t ? 16'd0 : t + 16'd1;
                    state <= last_t ? S_EXP : S_SREQ;
                end
                // pass 2
                S_EXP: begin
                    smem[t[11:0]] <= {11'd0, e_t};
                    sum   <= sum + {43'd0, e_t};
                    t     <= last_t ? 16'd0 : t + 16'd1;
                    state <= last_t ? S_DIV_GO : S_EXP;
                end
                S_DIV_GO: begin
                    div_start <= 1'b1;
                    state     <= S_DIV_WAIT;
                end
                S_DIV_WAIT: if (div_done) begin
                    recip <= quotient[32:0];
                    state <= S_PROB;
                end
                // pass 3
                S_PROB: begin
                    smem[t[11:0]] <= prob[63:32];
                    t     <= last_t ? 16'd0 : t + 16'd1;
                    state <= last_t ? S_WROW : S_PROB;
                end
                // pass 4: one row of 16 weight codes per cycle
                S_WROW: begin
                    j <= j + 12'd1;
                    if ({j + 12'd1, 4'd0} >= nt) state <= S_CREQ;
                end
                // pass 5: per context vector v, every timestep's value row, then the write
                S_CREQ: state <= S_CACC;
                S_CACC: begin
                    t     <= last_t ? 16'd0 : t + 16'd1;
                    state <= last_t ? S_CWR : S_CREQ;
                end
                S_CWR: begin
                    v <= v + 8'd1;
                    if (last_v) begin
                        state <= S_IDLE;
                        done  <= 1'b1;
                    end else begin
                        state <= S_CREQ;
                    end
                end
                default: state <= S_IDLE;
            endcase
        end
    end

    // verilator lint_off UNUSEDSIGNAL
    wire unused = ^{cfg[127:123], cfg[119:115], cfg[111:107], cfg[103:99], cfg[95:80], cfg[63:56],
                    cfg[47:43], cfg[39:34], cfg[31:0], cfg_large, cfg_small, quotient[63:33], remainder,
                    sum[63:32], prob[31:0], cur[31:21]};
    // verilator lint_on UNUSEDSIGNAL
endmodule
