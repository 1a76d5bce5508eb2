// flexasr_adpf_decode: one AdaptivFloat8 code (sign [7], exponent e [6:4], mantissa m [3:0]) with a
// 3-bit exponent bias as a 20-bit activation with 14 fractional bits (docs/flexasr.md):
// (-1)^s (16 + m) << (e + bias), exact; 0 when code[6:0] == 0. Combinational (latency 0).
module flexasr_adpf_decode (
    input  wire [7:0]         code,
    input  wire [2:0]         bias,
    output wire signed [19:0] value
);
    wire [3:0]  shift = {1'b0, code[6:4]} + {1'b0, bias};
    wire [19:0] mag   = {15'd0, 1'b1, code[3:0]} << shift;  // at most 31 << 14 < 2^19
    assign value = (code[6:0] == 7'd0) ? 20'sd0 : (code[7] ? -$signed(mag) : $signed(mag));
endmodule
