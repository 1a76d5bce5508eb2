// flexasr_plan_sigmoid: the PLAN piecewise-linear sigmoid on 14-fraction fixed point
// (ila_models/flexasr_pe.py `sigmoid`): with a = |x|,
//   a >= 5: 1;  a >= 2.375: a/32 + 0.84375;  a >= 1: a/8 + 0.625;  else a/4 + 0.5;  x < 0: 1 - y.
// Shifts floor. x is 21 bits so that tanh can pass 2x unsaturated. Combinational (latency 0).
module flexasr_plan_sigmoid (
    input  wire signed [20:0] x,
    output wire signed [19:0] y
);
    wire [20:0] a = x[20] ? 21'(-x) : x;  // |x| <= 2^20 fits unsigned
    wire [15:0] pos = (a >= 21'd81920) ? 16'd16384 :
                      (a >= 21'd38912) ? 16'(a >> 5) + 16'd13824 :
                      (a >= 21'd16384) ? 16'(a >> 3) + 16'd10240 :
                                         16'(a >> 2) + 16'd8192;
    assign y = x[20] ? 20'sd16384 - $signed({4'd0, pos}) : $signed({4'd0, pos});
endmodule
