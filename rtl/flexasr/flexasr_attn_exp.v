// flexasr_attn_exp: exp(d) for a score difference d <= 0 in 32-bit-style fixed point with 20
// fractional bits (Q20), by a power-of-two decomposition (ila_models/flexasr_gb.py `attention_exp`,
// docs/flexasr.md):
//   y = (d * 1512775) >>> 20              (1512775 = round(log2(e) 2^20); floor)
//   y = -n 2^20 + f, 0 <= f < 2^20;  i = f[19:16], r = f[15:0]
//   2^(f/2^20) ~ T[i] + (((T[i+1] - T[i]) r) >> 16),  T[i] = round(2^(i/16) 2^20)  (17 knots)
//   e = that >> n  (0 once n >= 21).  e <= 2^20 (exactly 2^20 for d = 0).
// Combinational (latency 0).
module flexasr_attn_exp (
    input  wire signed [32:0] d,
    output wire [20:0]        e
);
    function automatic [21:0] knot(input [4:0] i);
        case (i)
            5'd0:  knot = 22'd1048576;
            5'd1:  knot = 22'd1095000;
            5'd2:  knot = 22'd1143480;
            5'd3:  knot = 22'd1194106;
            5'd4:  knot = 22'd1246974;
            5'd5:  knot = 22'd1302182;
            5'd6:  knot = 22'd1359835;
            5'd7:  knot = 22'd1420040;
            5'd8:  knot = 22'd1482910;
            5'd9:  knot = 22'd1548564;
            5'd10: knot = 22'd1617125;
            5'd11: knot = 22'd1688722;
            5'd12: knot = 22'd1763488;
            5'd13: knot = 22'd1841564;
            5'd14: knot = 22'd1923097;
            5'd15: knot = 22'd2008240;
            default: knot = 22'd2097152;
        endcase
    endfunction

    wire signed [63:0] prod = $signed({{31{d[32]}}, d}) * 64'sd1512775;
    wire signed [63:0] y    = prod >>> 20;
    wire signed [63:0] yi   = y >>> 20;  // -n
    wire signed [63:0] n    = -yi;
    wire [3:0]  i     = y[19:16];
    wire [15:0] r     = y[15:0];
    wire [21:0] t0    = knot({1'b0, i});
    wire [21:0] t1    = knot({1'b0, i} + 5'd1);
    wire [39:0] slope = {18'd0, t1 - t0} * {24'd0, r};
    wire [21:0] frac  = t0 + slope[37:16];
    wire [21:0] shifted = frac >> n[4:0];
    assign e = (n > 64'sd20) ? 21'd0 : shifted[20:0];

    // verilator lint_off UNUSEDSIGNAL
    wire unused = ^{slope[39:38], slope[15:0], shifted[21], n[63:5]};
    // verilator lint_on UNUSEDSIGNAL
endmodule
