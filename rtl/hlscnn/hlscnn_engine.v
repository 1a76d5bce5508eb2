// hlscnn_engine: HLSCNN's conv engine, which also runs the FC layer (as a 1x1 conv) and the
// reduction (docs/hlscnn.md, Instructions and Numerics).
// Conv/FC (mode 0): output-stationary. For each filter f, output row r, output column c:
//   psum = sum over channel block b, kernel row i, kernel column j of
//          hlscnn_mac8(act beat at act_base + 16*((b*in_rows + r*r_stride + i)*in_cols + c*c_stride + j),
//                      weight vector ((f*blocks + b)*k_rows + i)*k_cols + j from wgt_base in SPAD0)
//   (32-bit wrap-around), then lane f%8 of SPAD1 entry out_base + ((f/8)*out_rows + r)*out_cols + c
//   becomes hlscnn_epilogue(psum, that lane's old value, ...) when write_back is set.
// Reduction (mode 1): lane l of SPAD1[out_base] = epilogue(sum_{j<count} SPAD1[in_base+j][l] << 9,
//   + bias), read one entry per two cycles.
// Latency: conv/FC: 2 cycles per (output, block, kernel tap) -- one activation beat fetched over
// the DRAM port and one SPAD0 read, overlapped -- plus 2 per output; reduction: 2 per entry + 1.
// `done` is high for one cycle after the last write is visible.
module hlscnn_engine #(
    parameter int WEIGHT_BITS = 16,
    parameter int AW = 13
) (
    input  wire          clk,
    input  wire          rst,
    input  wire          start,
    input  wire          mode,          // 0 conv/FC, 1 reduction
    input  wire [31:0]   act_base,      // conv: SoC-memory byte address; reduction: SPAD1 entry
    input  wire [31:0]   wgt_base,
    input  wire [31:0]   out_base,
    input  wire [15:0]   in_rows,
    input  wire [15:0]   in_cols,
    input  wire [15:0]   chans,
    input  wire [15:0]   k_rows,
    input  wire [15:0]   k_cols,
    input  wire [15:0]   r_stride,
    input  wire [15:0]   c_stride,
    input  wire [15:0]   out_rows,
    input  wire [15:0]   out_cols,
    input  wire [15:0]   filters,       // reduction: the entry count
    input  wire [15:0]   bias,
    input  wire          bias_en,
    input  wire [1:0]    act,
    input  wire [21:0]   threshold,
    input  wire          accum,
    input  wire          write_back,
    output wire          done,
    output wire          active,
    // DRAM port (reads only)
    output wire          mem_req_valid,
    input  wire          mem_req_ready,
    output wire [31:0]   mem_req_addr,
    input  wire          mem_resp_valid,
    input  wire [127:0]  mem_resp_data,
    // scratchpads
    output wire [AW-1:0] spad0_raddr,
    input  wire [127:0]  spad0_rdata,
    output wire          spad1_we,
    output wire [AW-1:0] spad1_addr,
    output reg  [127:0]  spad1_wdata,
    input  wire [127:0]  spad1_rdata
);
    localparam logic [2:0] E_IDLE = 3'd0, E_ISSUE = 3'd1, E_MAC = 3'd2, E_OREAD = 3'd3,
                           E_OWRITE = 3'd4, E_RREAD = 3'd5, E_RACC = 3'd6, E_DONE = 3'd7;
    reg [2:0]  state;
    reg        red;
    reg [31:0] p_act, p_wgt, p_out;
    reg [31:0] p_in_rows, p_in_cols, p_chans, p_k_rows, p_k_cols, p_rs, p_cs, p_out_rows, p_out_cols;
    reg [31:0] p_filters, p_blocks;
    reg [15:0] p_bias;
    reg        p_bias_en, p_accum, p_wb;
    reg [1:0]  p_act_fn;
    reg [21:0] p_thr;
    // loop counters: filter, output row/col, channel block, kernel row/col; j for the reduction
    reg [31:0] f, r, c, b, i, j;
    reg signed [31:0] psum;
    reg signed [31:0] lane_sum [0:7];

    // ---- addresses
    wire [31:0] act_index = (b * p_in_rows + r * p_rs + i) * p_in_cols + c * p_cs + j;
    wire [31:0] wvec      = ((f * p_blocks + b) * p_k_rows + i) * p_k_cols + j;
    wire [31:0] wentry    = p_wgt + (WEIGHT_BITS == 16 ? wvec : {1'b0, wvec[31:1]});
    wire [31:0] oentry    = p_out + ({3'b000, f[31:3]} * p_out_rows + r) * p_out_cols + c;
    wire [31:0] rentry    = p_act + j;
    wire [31:0] left      = p_chans - {b[28:0], 3'b000};
    wire [7:0]  lane_mask = left >= 32'd8 ? 8'hff : 8'hff >> (4'd8 - {1'b0, left[2:0]});

    assign mem_req_valid = state == E_ISSUE;
    assign mem_req_addr  = p_act + {act_index[27:0], 4'b0000};
    assign spad0_raddr   = wentry[AW-1:0];
    assign spad1_addr    = red ? (state == E_OWRITE ? p_out[AW-1:0] : rentry[AW-1:0]) : oentry[AW-1:0];
    assign spad1_we      = state == E_OWRITE && (red || p_wb);
    assign done          = state == E_DONE;
    assign active        = state != E_IDLE;

    // ---- datapath
    wire signed [31:0] term;
    hlscnn_mac8 #(.WEIGHT_BITS(WEIGHT_BITS)) u_mac (
        .act_beat(mem_resp_data), .wgt_entry(spad0_rdata), .half(wvec[0]), .lane_mask(lane_mask), .term(term)
    );
    wire signed [15:0] lane_out [0:7];
    genvar g;
    generate
        for (g = 0; g < 8; g = g + 1) begin : g_lane
            hlscnn_epilogue u_epi (
                .psum(red ? lane_sum[g] : psum), .old(spad1_rdata[16*g +: 16]), .accum(!red && p_accum),
                .bias(p_bias), .bias_en(red || p_bias_en), .act(red ? 2'd0 : p_act_fn), .threshold(p_thr),
                .out(lane_out[g])
            );
        end
    endgenerate

    integer l;
    always @(*) begin
        spad1_wdata = spad1_rdata;
        for (l = 0; l < 8; l = l + 1) begin
            if (red || f[2:0] == l[2:0]) spad1_wdata[16*l +: 16] = lane_out[l];
        end
    end

    // ---- control
    wire last_tap    = j + 1 >= p_k_cols && i + 1 >= p_k_rows && b + 1 >= p_blocks;
    wire last_output = c + 1 >= p_out_cols && r + 1 >= p_out_rows && f + 1 >= p_filters;

    always @(posedge clk) begin
        if (rst) begin
            state <= E_IDLE;
        end else begin
            case (state)
                E_IDLE: if (start) begin
                    red        <= mode;
                    p_act      <= act_base;
                    p_wgt      <= wgt_base;
                    p_out      <= out_base;
                    p_in_rows  <= {16'd0, in_rows};
                    p_in_cols  <= {16'd0, in_cols};
                    p_chans    <= {16'd0, chans};
                    p_blocks   <= ({16'd0, chans} + 32'd7) >> 3;
                    p_k_rows   <= {16'd0, k_rows};
                    p_k_cols   <= {16'd0, k_cols};
                    p_rs       <= {16'd0, r_stride};
                    p_cs       <= {16'd0, c_stride};
                    p_out_rows <= {16'd0, out_rows};
                    p_out_cols <= {16'd0, out_cols};
                    p_filters  <= {16'd0, filters};
                    p_bias     <= bias;
                    p_bias_en  <= bias_en;
                    p_act_fn   <= act;
                    p_thr      <= threshold;
                    p_accum    <= accum;
                    p_wb       <= write_back;
                    {f, r, c, b, i, j} <= '0;
                    psum       <= 32'sd0;
                    for (l = 0; l < 8; l = l + 1) lane_sum[l] <= 32'sd0;
                    state      <= mode ? (filters == 16'd0 ? E_OWRITE : E_RREAD) : E_ISSUE;
                end
                E_ISSUE: if (mem_req_ready) state <= E_MAC;
                E_MAC: if (mem_resp_valid) begin
                    psum <= psum + term;
                    if (last_tap) begin
                        {b, i, j} <= '0;
                        state <= E_OREAD;
                    end else begin
                        state <= E_ISSUE;
                        if (j + 1 < p_k_cols) j <= j + 1;
                        else begin
                            j <= 32'd0;
                            if (i + 1 < p_k_rows) i <= i + 1;
                            else begin
                                i <= 32'd0;
                                b <= b + 1;
                            end
                        end
                    end
                end
                E_OREAD: state <= E_OWRITE;  // SPAD1's read data arrive in E_OWRITE
                E_OWRITE: begin
                    psum <= 32'sd0;
                    if (red || last_output) state <= E_DONE;
                    else begin
                        state <= E_ISSUE;
                        if (c + 1 < p_out_cols) c <= c + 1;
                        else begin
                            c <= 32'd0;
                            if (r + 1 < p_out_rows) r <= r + 1;
                            else begin
                                r <= 32'd0;
                                f <= f + 1;
                            end
                        end
                    end
                end
                E_RREAD: state <= E_RACC;
                E_RACC: begin
                    for (l = 0; l < 8; l = l + 1)
                        lane_sum[l] <= lane_sum[l] + {{7{spad1_rdata[16*l+15]}}, spad1_rdata[16*l +: 16], 9'd0};
                    j <= j + 1;
                    state <= j + 1 >= p_filters ? E_OWRITE : E_RREAD;
                end
                E_DONE: state <= E_IDLE;
                default: state <= E_IDLE;
            endcase
        end
    end

    // verilator lint_off UNUSEDSIGNAL
    wire unused = ^{act_index[31:28], wentry[31:AW], oentry[31:AW], rentry[31:AW], p_out[31:AW], left[31:3]};
    // verilator lint_on UNUSEDSIGNAL
endmodule
