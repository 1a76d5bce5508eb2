// flexasr_adpf_encode: a signed integer x with F fractional bits as an AdaptivFloat8 code of
// exponent bias b, exactly as ila_models/adaptivfloat.py `from_fixed` (docs/flexasr.md). Every
// threshold depends only on k = b + F - 14 (0..13): with M = |x|,
//   2M < 17 << k -> 0x00;  M < 17 << k -> +-min (e 0, m 1);  M >= 31 << (k + 7) -> +-max (0x7F);
//   else L = msb(M): mantissa M / 2^(L-4) rounded to nearest even on the bits below (a carry to 32
//   moves to the next exponent), e = L - 4 - k.
// Combinational (latency 0).
module flexasr_adpf_encode (
    input  wire signed [31:0] x,
    input  wire [3:0]         k,
    output wire [7:0]         code
);
    wire        neg = x[31];
    wire [31:0] mag = neg ? 32'(-x) : x;  // |x| < 2^31 for every caller (20- to 28-bit values)

    // msb position by halving (6 steps)
    function automatic [4:0] msb32(input [31:0] v);
        reg [31:0] t;
        reg [4:0]  n;
        begin
            t = v;
            n = 5'd0;
            if (t[31:16] != 16'd0) begin n = n + 5'd16; t = t >> 16; end
            if (t[15:8]  != 8'd0)  begin n = n + 5'd8;  t = t >> 8;  end
            if (t[7:4]   != 4'd0)  begin n = n + 5'd4;  t = t >> 4;  end
            if (t[3:2]   != 2'd0)  begin n = n + 5'd2;  t = t >> 2;  end
            if (t[1])              n = n + 5'd1;
            msb32 = n;
        end
    endfunction

    wire [4:0]  lead   = msb32(mag);
    wire [31:0] norm   = mag << (5'd31 - lead);  // leading one at bit 31
    wire [4:0]  q0     = norm[31:27];            // 1mmmm
    wire        guard  = norm[26];
    wire        sticky = norm[25:0] != 26'd0;
    wire        up     = guard && (sticky || q0[0]);
    wire [5:0]  q      = {1'b0, q0} + {5'd0, up};
    wire        carry  = q[5];
    wire [5:0]  e      = {1'b0, lead} - 6'd4 - {2'd0, k} + {5'd0, carry};
    wire [3:0]  mant   = carry ? 4'd0 : q[3:0];

    wire [32:0] min_t  = {28'd0, 5'd17} << k;
    wire [32:0] max_t  = {28'd0, 5'd31} << ({1'b0, k} + 5'd7);
    wire        is_zero = {mag, 1'b0} < min_t;
    wire        is_min  = {1'b0, mag} < min_t;
    wire        is_max  = {1'b0, mag} >= max_t;
    wire [6:0]  body = is_min ? 7'h01 : (is_max ? 7'h7F : {e[2:0], mant});
    assign code = is_zero ? 8'h00 : {neg, body};

    // verilator lint_off UNUSEDSIGNAL
    wire unused = ^{e[5:3], q[4]};
    // verilator lint_on UNUSEDSIGNAL
endmodule
