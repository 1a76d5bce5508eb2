// flexasr_mac16: the dot product of one PE lane: 16 AdaptivFloat weight codes w against 16 input
// codes x, sum over k of (-1)^(sw^sx) (16+mw)(16+mx) << (ew+ex) (0 when either code is zero),
// as a 32-bit two's complement value (the PE accumulator wraps modulo 2^32). Element k is byte k.
// Combinational (latency 0); the PE registers its inputs (buffer read) and its accumulator.
module flexasr_mac16 (
    input  wire [127:0]       w,
    input  wire [127:0]       x,
    output wire signed [31:0] sum
);
    wire [31:0] terms [0:15];
    genvar k;
    generate
        for (k = 0; k < 16; k = k + 1) begin : g_term
            wire [7:0]  wc = w[8*k +: 8];
            wire [7:0]  xc = x[8*k +: 8];
            wire        zero = wc[6:0] == 7'd0 || xc[6:0] == 7'd0;
            wire [9:0]  mag  = {5'd1, wc[3:0]} * {5'd1, xc[3:0]};
            wire [3:0]  sh   = {1'b0, wc[6:4]} + {1'b0, xc[6:4]};
            wire [31:0] prod = {22'd0, mag} << sh;  // < 2^24
            assign terms[k] = zero ? 32'd0 : ((wc[7] ^ xc[7]) ? -prod : prod);
        end
    endgenerate
    assign sum = $signed(terms[0] + terms[1] + terms[2] + terms[3] + terms[4] + terms[5] + terms[6] +
                         terms[7] + terms[8] + terms[9] + terms[10] + terms[11] + terms[12] + terms[13] +
                         terms[14] + terms[15]);
endmodule
