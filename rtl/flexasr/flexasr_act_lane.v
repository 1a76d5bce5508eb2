// flexasr_act_lane: one lane of the activation unit's register-to-register micro-ops on 20-bit
// activations with 14 fractional bits (ila_models/flexasr_pe.py ACT_OPS): COPY a1; EADD sat(a2+a1);
// EMUL sat((a2 a1) >> 14); SIGM / TANH (PLAN, tanh = 2 sigmoid(2x) - 1); RELU max(a2, 0);
// ONEX sat(1 - a2). Other opcodes return a2. Combinational (latency 0).
module flexasr_act_lane (
    input  wire [3:0]         op,
    input  wire signed [19:0] a2,
    input  wire signed [19:0] a1,
    output reg  signed [19:0] result
);
    localparam logic [3:0] COPY = 4'h7, EADD = 4'h8, EMUL = 4'h9, SIGM = 4'hA, TANH = 4'hB,
                           RELU = 4'hC, ONEX = 4'hD;

    function automatic signed [19:0] sat20(input signed [40:0] v);
        sat20 = (v > 41'sd524287) ? 20'sd524287 : ((v < -41'sd524288) ? -20'sd524288 : v[19:0]);
    endfunction

    wire signed [40:0] a2w  = {{21{a2[19]}}, a2};
    wire signed [40:0] a1w  = {{21{a1[19]}}, a1};
    wire signed [40:0] prod = a2w * a1w;
    wire signed [20:0] sig_in = (op == TANH) ? {a2, 1'b0} : {a2[19], a2};
    wire signed [19:0] sig;
    flexasr_plan_sigmoid u_sigmoid (.x(sig_in), .y(sig));

    always @* begin
        case (op)
            COPY:    result = a1;
            EADD:    result = sat20(a2w + a1w);
            EMUL:    result = sat20(prod >>> 14);
            SIGM:    result = sig;
            TANH:    result = {sig[18:0], 1'b0} - 20'sd16384;  // 2 sig - 1, sig in [0, 1]
            RELU:    result = a2[19] ? 20'sd0 : a2;
            ONEX:    result = sat20(41'sd16384 - a2w);
            default: result = a2;
        endcase
    end
endmodule
