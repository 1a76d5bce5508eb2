// flexasr_gb_control: GB_CONTROL, a layer over the valid PEs (ila_models/flexasr_gb.py `gb_control`).
// For t < num_timestep_1 (stored timestep ts: uni t, bi-forward 2t, bi-backward 2(T-1-t)+1, decode 0
// in the small buffer):
//   1. the num_vector_1 vectors of timestep ts of block memory_index_1 -> every valid PE's input
//      buffer at mem_mngr_first.base_input (one vector per 2 cycles);
//   2. start the PEs and wait until none is busy;
//   3. for PE 0..3 (valid ones), for vector j < num_vector_2 the PE's activation unit wrote (OUTGB):
//      that vector -> vector j of timestep ts of block memory_index_2 (later PEs win, as in the ILA);
//   4. when is_rnn: those num_vector_2 vectors -> every valid PE's input buffer at
//      mem_mngr_second.base_input (the hidden state of the next timestep).
// Buffer port: one read (registered by the buffer) and one write per cycle, to the large buffer or,
// in decode mode (3), the small one. Latency per timestep: 2 nv1 + the PEs' + 8 nv2 (+ 2 nv2 when
// is_rnn) + 2 cycles.
module flexasr_gb_control (
    input  wire         clk,
    input  wire         rst,
    input  wire         start,
    input  wire [127:0] cfg,        // gb_control beat
    input  wire [127:0] cfg_large,  // mem_mngr_large beat
    input  wire [127:0] cfg_small,  // mem_mngr_small beat
    output wire         buf_small,
    output wire [15:0]  buf_raddr,
    input  wire [127:0] buf_rdata,
    output wire         buf_we,
    output wire [15:0]  buf_waddr,
    output wire [127:0] buf_wdata,
    input  wire [3:0]   pe_valid,
    input  wire [3:0]   pe_busy,
    output wire         pe_start,
    output wire         pe_in_we,
    output wire         pe_in_sel,
    output wire [7:0]   pe_in_index,
    output wire [127:0] pe_in_data,
    output wire [7:0]   pe_out_raddr,
    input  wire [511:0] pe_out_rdata,
    input  wire [3:0]   pe_out_rhit,
    output reg          done
);
    localparam logic [3:0] S_IDLE = 4'd0, S_XREQ = 4'd1, S_XWR = 4'd2, S_RUN = 4'd3, S_WAIT = 4'd4,
                           S_WREQ = 4'd5, S_WWR = 4'd6, S_HREQ = 4'd7, S_HWR = 4'd8, S_NEXT = 4'd9;

    wire [1:0]  mode   = cfg[9:8];
    wire        is_rnn = cfg[16];
    wire [1:0]  index1 = cfg[33:32];
    wire [1:0]  index2 = cfg[41:40];
    wire [7:0]  nv1    = cfg[55:48];
    wire [7:0]  nv2    = cfg[63:56];
    wire [15:0] nt     = cfg[79:64];

    reg [3:0]  state;
    reg [15:0] t;
    reg [7:0]  j;
    reg [1:0]  p;

    wire [16:0] ts = mode == 2'd0 ? {1'b0, t} :
                     mode == 2'd1 ? {t, 1'b0} :
                     mode == 2'd2 ? {nt - t - 16'd1, 1'b1} : 17'd0;
    wire [15:0] base1 = mode == 2'd3 ? {6'd0, cfg_small[16*index1 +: 10]} : cfg_large[32*index1 + 16 +: 16];
    wire [15:0] base2 = mode == 2'd3 ? {6'd0, cfg_small[16*index2 +: 10]} : cfg_large[32*index2 + 16 +: 16];
    wire [15:0] x_row_large, o_row_large;
    flexasr_timestep_row u_x_row (.base(base1), .nv(nv1), .ts(ts), .v(j), .row(x_row_large));
    flexasr_timestep_row u_o_row (.base(base2), .nv(nv2), .ts(ts), .v(j), .row(o_row_large));
    wire [15:0] x_row = mode == 2'd3 ? base1 + {8'd0, j} : x_row_large;
    wire [15:0] o_row = mode == 2'd3 ? base2 + {8'd0, j} : o_row_large;

    assign buf_small    = mode == 2'd3;
    assign buf_raddr    = state == S_XREQ ? x_row : o_row;
    assign buf_we       = state == S_WWR && pe_valid[p] && pe_out_rhit[p];
    assign buf_waddr    = o_row;
    assign buf_wdata    = pe_out_rdata[128*p +: 128];
    assign pe_start     = state == S_RUN;
    assign pe_in_we     = state == S_XWR || state == S_HWR;
    assign pe_in_sel    = state == S_HWR;
    assign pe_in_index  = j;
    assign pe_in_data   = buf_rdata;
    assign pe_out_raddr = j;

    always @(posedge clk) begin
        done <= 1'b0;
        if (rst) begin
            state <= S_IDLE;
        end else begin
            case (state)
                S_IDLE: if (start) begin
                    t <= 16'd0;
                    j <= 8'd0;
                    if (nt == 16'd0) done <= 1'b1;
                    else state <= S_XREQ;
                end
                S_XREQ: state <= j == nv1 ? S_RUN : S_XWR;
                S_XWR: begin
                    j     <= j + 8'd1;
                    state <= S_XREQ;
                end
                S_RUN:  state <= S_WAIT;
                S_WAIT: if ((pe_busy & pe_valid) == 4'd0) begin
                    p     <= 2'd0;
                    j     <= 8'd0;
                    state <= nv2 == 8'd0 ? S_NEXT : S_WREQ;
                end
                S_WREQ: state <= S_WWR;
                S_WWR: begin
                    state <= S_WREQ;
                    if (j + 8'd1 == nv2) begin
                        j <= 8'd0;
                        p <= p + 2'd1;
                        if (p == 2'd3) state <= is_rnn ? S_HREQ : S_NEXT;
                    end else begin
                        j <= j + 8'd1;
                    end
                end
                S_HREQ: state <= j == nv2 ? S_NEXT : S_HWR;
                S_HWR: begin
                    j     <= j + 8'd1;
                    state <= S_HREQ;
                end
                S_NEXT: begin
                    t <= t + 16'd1;
                    j <= 8'd0;
                    if (t + 16'd1 == nt) begin
                        state <= S_IDLE;
                        done  <= 1'b1;
                    end else begin
                        state <= S_XREQ;
                    end
                end
                default: state <= S_IDLE;
            endcase
        end
    end

    // verilator lint_off UNUSEDSIGNAL
    wire unused = ^{cfg[127:80], cfg[47:42], cfg[39:34], cfg[31:17], cfg[15:10], cfg[7:0]};
    // verilator lint_on UNUSEDSIGNAL
endmodule
