// flexasr_layer_norm: LAYER_NORM (ila_models/flexasr_gb.py `layer_norm`), in place on block
// memory_index_1 of the large buffer. Per timestep t < num_timestep_1 over its N = 16 num_vector_1
// elements x (bias adpbias_1), in integers with 14 fractional bits:
//   pass 1: sum x;  mean = floor(sum / N)                 (sequential divider)
//   pass 2: sum d^2 with d = x - mean;  var = floor(sum / N)
//           s = max(1, isqrt(var)) (sequential square root);  rstd = floor(2^28 / s)
//   pass 3: y = (d rstd) >> 14;  z = ((y gamma) >> 14) + beta, encoded with adpbias_1, where gamma is
//           small-buffer block base_small_5 (adpbias_3) and beta block base_small_6 (adpbias_4).
// Latency per timestep: 6 nv + 64 * 3 (divisions) + 32 (square root) + 8 cycles.
module flexasr_layer_norm (
    input  wire         clk,
    input  wire         rst,
    input  wire         start,
    input  wire [127:0] cfg,        // layer_norm beat
    input  wire [127:0] cfg_large,  // mem_mngr_large beat
    input  wire [127:0] cfg_small,  // mem_mngr_small beat
    output wire [15:0]  buf_raddr,
    input  wire [127:0] buf_rdata,
    output wire         buf_we,
    output wire [15:0]  buf_waddr,
    output wire [127:0] buf_wdata,
    output wire [9:0]   gb_raddr,   // small buffer: gamma, then beta
    input  wire [127:0] gb_rdata,
    output reg          done
);
    localparam logic [3:0] S_IDLE = 4'd0, S_SUM = 4'd1, S_SUM_DRAIN = 4'd2, S_MEAN_GO = 4'd3,
                           S_MEAN_WAIT = 4'd4, S_SQ = 4'd5, S_SQ_DRAIN = 4'd6, S_VAR_GO = 4'd7,
                           S_VAR_WAIT = 4'd8, S_SQRT_WAIT = 4'd9, S_RSTD_WAIT = 4'd10, S_GREQ = 4'd11,
                           S_BREQ = 4'd12, S_NORM = 4'd13, S_NEXT = 4'd14;

    wire [1:0]  index = cfg[33:32];
    wire [7:0]  nv    = cfg[55:48];
    wire [15:0] nt    = cfg[79:64];
    wire [2:0]  bias1 = cfg[98:96];
    wire [2:0]  bias3 = cfg[114:112];
    wire [2:0]  bias4 = cfg[122:120];
    wire [15:0] base  = cfg_large[32*index + 16 +: 16];
    wire [9:0]  base5 = cfg_small[80 +: 10];
    wire [9:0]  base6 = cfg_small[96 +: 10];
    wire [31:0] n     = {20'd0, nv, 4'd0};

    reg [3:0]          state;
    reg [15:0]         t;
    reg [7:0]          v;
    reg                p1_valid;  // a row of pass 1 or 2 arrives this cycle
    reg                p1_square; // ... of pass 2
    reg signed [63:0]  acc;
    reg signed [63:0]  mean;
    reg [31:0]         rstd;
    reg [127:0]        gamma_codes;
    reg                div_start, sqrt_start;
    reg [63:0]         div_dividend;
    reg [31:0]         div_divisor;
    wire [63:0]        quotient;
    wire [31:0]        remainder, root;
    wire               div_done, sqrt_done;

    flexasr_divider u_div (
        .clk(clk), .rst(rst), .start(div_start), .dividend(div_dividend), .divisor(div_divisor),
        .quotient(quotient), .remainder(remainder), .done(div_done)
    );
    flexasr_isqrt u_sqrt (.clk(clk), .rst(rst), .start(sqrt_start), .x(quotient), .root(root), .done(sqrt_done));

    wire [15:0] row;
    flexasr_timestep_row u_row (.base(base), .nv(nv), .ts({1'b0, t}), .v(v), .row(row));
    assign buf_raddr = row;
    assign gb_raddr  = (state == S_BREQ ? base6 : base5) + {2'd0, v};

    // per lane: x, d, d^2 (passes 1, 2) and the normalized, scaled, shifted output (pass 3)
    wire signed [63:0] lane_x [0:15];
    wire signed [63:0] lane_sq [0:15];
    wire [15:0]        z_hi;
    wire               z_high = ^z_hi;
    genvar k;
    generate
        for (k = 0; k < 16; k = k + 1) begin : g_lane
            wire signed [19:0] x, g, b;
            flexasr_adpf_decode u_dx (.code(buf_rdata[8*k +: 8]), .bias(bias1), .value(x));
            flexasr_adpf_decode u_dg (.code(gamma_codes[8*k +: 8]), .bias(bias3), .value(g));
            flexasr_adpf_decode u_db (.code(gb_rdata[8*k +: 8]), .bias(bias4), .value(b));
            wire signed [63:0] x64 = {{44{x[19]}}, x};
            wire signed [63:0] d   = x64 - mean;
            wire signed [63:0] y   = (d * $signed({32'd0, rstd})) >>> 14;
            wire signed [63:0] z   = ((y * $signed({{44{g[19]}}, g})) >>> 14) + $signed({{44{b[19]}}, b});
            assign lane_x[k]  = x64;
            assign lane_sq[k] = d * d;
            assign z_hi[k] = ^z[63:32];  // |z| < 2^27 (docs/flexasr.md bounds y by 2^21)
            flexasr_adpf_encode u_enc (.x(z[31:0]), .k({1'b0, bias1}), .code(buf_wdata[8*k +: 8]));
        end
    endgenerate
    wire signed [63:0] row_sum = lane_x[0] + lane_x[1] + lane_x[2] + lane_x[3] + lane_x[4] + lane_x[5] +
                                 lane_x[6] + lane_x[7] + lane_x[8] + lane_x[9] + lane_x[10] + lane_x[11] +
                                 lane_x[12] + lane_x[13] + lane_x[14] + lane_x[15];
    wire signed [63:0] row_sq  = lane_sq[0] + lane_sq[1] + lane_sq[2] + lane_sq[3] + lane_sq[4] + lane_sq[5] +
                                 lane_sq[6] + lane_sq[7] + lane_sq[8] + lane_sq[9] + lane_sq[10] + lane_sq[11] +
                                 lane_sq[12] + lane_sq[13] + lane_sq[14] + lane_sq[15];
    assign buf_we    = state == S_NORM;
    assign buf_waddr = row;

    wire last_v = v + 8'd1 == nv;
    wire [63:0] abs_acc = acc[63] ? -acc : acc;

    always @(posedge clk) begin
        done       <= 1'b0;
        div_start  <= 1'b0;
        sqrt_start <= 1'b0;
        p1_valid   <= 1'b0;
        if (p1_valid) acc <= acc + (p1_square ? row_sq : row_sum);
        if (rst) begin
            state <= S_IDLE;
        end else begin
            case (state)
                S_IDLE: if (start) begin
                    t   <= 16'd0;
                    v   <= 8'd0;
                    acc <= 64'sd0;
                    if (nv == 8'd0 || nt == 16'd0) done <= 1'b1;
                    else state <= S_SUM;
                end
                // pass 1: one row read per cycle, summed the cycle it arrives
                S_SUM: begin
                    p1_valid  <= 1'b1;
                    p1_square <= 1'b0;
                    v         <= v + 8'd1;
                    if (last_v) state <= S_SUM_DRAIN;
                end
                S_SUM_DRAIN: state <= S_MEAN_GO;  // the last row is summed at this edge
                S_MEAN_GO: begin
                    div_dividend <= abs_acc;
                    div_divisor  <= n;
                    div_start    <= 1'b1;
                    state        <= S_MEAN_WAIT;
                end
                S_MEAN_WAIT: if (div_done) begin  // floor division: toward -inf for a negative sum
                    mean  <= acc[63] ? -$signed(quotient) - ((remainder != 32'd0) ? 64'sd1 : 64'sd0)
                                     : $signed(quotient);
                    acc   <= 64'sd0;
                    v     <= 8'd0;
                    state <= S_SQ;
                end
                // pass 2
                S_SQ: begin
                    p1_valid  <= 1'b1;
                    p1_square <= 1'b1;
                    v         <= v + 8'd1;
                    if (last_v) state <= S_SQ_DRAIN;
                end
                S_SQ_DRAIN: state <= S_VAR_GO;
                S_VAR_GO: begin
                    div_dividend <= acc;  // a sum of squares: non-negative
                    div_divisor  <= n;
                    div_start    <= 1'b1;
                    state        <= S_VAR_WAIT;
                end
                S_VAR_WAIT: if (div_done) begin
                    sqrt_start <= 1'b1;
                    state      <= S_SQRT_WAIT;
                end
                S_SQRT_WAIT: if (sqrt_done) begin
                    div_dividend <= 64'd1 << 28;
                    div_divisor  <= root == 32'd0 ? 32'd1 : root;
                    div_start    <= 1'b1;
                    state        <= S_RSTD_WAIT;
                end
                S_RSTD_WAIT: if (div_done) begin
                    rstd  <= quotient[31:0];
                    v     <= 8'd0;
                    state <= S_GREQ;
                end
                // pass 3: gamma, then x and beta, then the write
                S_GREQ: state <= S_BREQ;
                S_BREQ: begin
                    gamma_codes <= gb_rdata;
                    state       <= S_NORM;
                end
                S_NORM: begin
                    v     <= v + 8'd1;
                    state <= last_v ? S_NEXT : S_GREQ;
                end
                S_NEXT: begin
                    t   <= t + 16'd1;
                    v   <= 8'd0;
                    acc <= 64'sd0;
                    if (t + 16'd1 == nt) begin
                        state <= S_IDLE;
                        done  <= 1'b1;
                    end else begin
                        state <= S_SUM;
                    end
                end
                default: state <= S_IDLE;
            endcase
        end
    end

    // verilator lint_off UNUSEDSIGNAL
    wire unused = ^{cfg[127:123], cfg[119:115], cfg[111:99], cfg[95:80], cfg[63:56], cfg[47:34], cfg[31:0],
                    quotient[63:32], cfg_small[127:106], cfg_small[95:90], cfg_small[79:0], z_high};
    // verilator lint_on UNUSEDSIGNAL
endmodule
