// vta_compute: the compute unit. Runs, one at a time in program order, LOAD UOP / LOAD ACC
// (DRAM -> uop/acc buffer through vta_mem_reader), GEMM and ALU (the micro-op loops of
// docs/vta.md) and FINISH (sets `done`). Before starting it pops a load->compute token
// (pop_prev) and a store->compute token (pop_next) as the instruction asks; it pushes
// compute->load (push_prev) and compute->store (push_next) as it retires.
// GEMM/ALU pipeline, one micro-op iteration per cycle: stage 0 reads the micro-op, stage 1 forms
// the acc/inp/wgt row indices and reads the rows, stage 2 runs vta_gemm_core or vta_alu and
// writes acc[a] and out[a] (low 8 bits of each lane). A row written by the previous iteration is
// forwarded, so updates apply in loop order. Latency: a loop of N iterations retires N+2 cycles
// after it starts; FINISH, no-ops and empty loops retire at the edge they start.
// Undecodable words (unknown opcode, LOAD of OUT/unknown memory) retire as no-ops.
module vta_compute #(
    parameter int BLOCK_IN = 16,
    parameter int BLOCK_OUT = 16,
    parameter int UOP_DEPTH = 8192,
    parameter int INP_DEPTH = 2048,
    parameter int WGT_DEPTH = 1024,
    parameter int ACC_DEPTH = 2048
) (
    input  wire         clk,
    input  wire         rst,
    // command queue
    input  wire         q_empty,
    input  wire [159:0] q_head,
    output wire         q_pop,
    // dependency tokens
    input  wire         l2c_nonempty,
    input  wire         s2c_nonempty,
    output wire         pop_l2c,
    output wire         pop_s2c,
    output wire         push_c2l,
    output wire         push_c2s,
    // DRAM
    output wire         mem_req_valid,
    input  wire         mem_req_ready,
    output wire [31:0]  mem_req_addr,
    input  wire         mem_resp_valid,
    input  wire [127:0] mem_resp_data,
    // buffers
    output wire                            uop_we,
    output wire [$clog2(UOP_DEPTH)-1:0]    uop_waddr,
    output wire [31:0]                     uop_wdata,
    output wire [$clog2(UOP_DEPTH)-1:0]    uop_raddr,
    input  wire [31:0]                     uop_rdata,
    output wire [$clog2(INP_DEPTH)-1:0]    inp_raddr,
    input  wire [BLOCK_IN*8-1:0]           inp_rdata,
    output wire [$clog2(WGT_DEPTH)-1:0]    wgt_raddr,
    input  wire [BLOCK_OUT*BLOCK_IN*8-1:0] wgt_rdata,
    output wire                            acc_we,
    output wire [$clog2(ACC_DEPTH)-1:0]    acc_waddr,
    output wire [BLOCK_OUT*32-1:0]         acc_wdata,
    output wire [$clog2(ACC_DEPTH)-1:0]    acc_raddr0,
    input  wire [BLOCK_OUT*32-1:0]         acc_rdata0,
    output wire [$clog2(ACC_DEPTH)-1:0]    acc_raddr1,
    input  wire [BLOCK_OUT*32-1:0]         acc_rdata1,
    output wire                            out_we,
    output wire [$clog2(ACC_DEPTH)-1:0]    out_waddr,
    output wire [BLOCK_OUT*8-1:0]          out_wdata,
    // retirement
    output wire         busy,
    output reg          retire_valid,
    output reg  [31:0]  retire_index
);
    localparam int UOP_AW = $clog2(UOP_DEPTH);
    localparam int INP_AW = $clog2(INP_DEPTH);
    localparam int WGT_AW = $clog2(WGT_DEPTH);
    localparam int ACC_AW = $clog2(ACC_DEPTH);
    localparam int ACC_BITS = BLOCK_OUT * 32;
    localparam int DATA_BITS = ACC_BITS > 32 ? ACC_BITS : 32;
    localparam logic [3:0] ACC_LOG = 4'($clog2(BLOCK_OUT * 4));
    localparam logic [3:0] UOP_LOG = 4'd2;
    localparam logic [2:0] OP_LOAD = 3'd0;
    localparam logic [2:0] OP_GEMM = 3'd2;
    localparam logic [2:0] OP_FINISH = 3'd3;
    localparam logic [2:0] OP_ALU = 3'd4;
    localparam logic [2:0] MEM_UOP = 3'd0;
    localparam logic [2:0] MEM_ACC = 3'd3;
    localparam logic [1:0] S_IDLE = 2'd0;
    localparam logic [1:0] S_LOAD = 2'd1;
    localparam logic [1:0] S_LOOP = 2'd2;

    reg [7:0] done /*verilator public_flat_rd*/;

    reg [1:0]  state;
    reg [31:0] index;
    reg        push_prev, push_next;
    reg        to_acc;
    // the loop being run
    reg        is_alu, reset_reg, use_imm;
    reg [2:0]  alu_opcode;
    reg [15:0] imm;
    reg [31:0] uop_bgn, uop_end, iter_out, iter_in;
    reg [31:0] dst_fo, dst_fi, src_fo, src_fi, wgt_fo, wgt_fi;
    reg        issuing;
    reg [31:0] o, i, u;
    reg [31:0] dst_o, src_o, wgt_o, dst_oi, src_oi, wgt_oi;  // o*f_out and o*f_out + i*f_in
    // pipeline stages 1 and 2
    reg               s1_valid, s1_last;
    reg [31:0]        s1_dst, s1_src, s1_wgt;
    reg               s2_valid, s2_last;
    reg [ACC_AW-1:0]  s2_a;
    reg               fwd0, fwd1;
    reg [ACC_BITS-1:0] fwd_data;

    // ---- the instruction at the head of the queue
    wire [2:0]  h_op    = q_head[2:0];
    wire [2:0]  h_mem   = q_head[9:7];
    wire        h_pop_prev = q_head[3];
    wire        h_pop_next = q_head[4];
    wire [31:0] h_uop_bgn  = {19'd0, q_head[20:8]};
    wire [31:0] h_uop_end  = {18'd0, q_head[34:21]};
    wire [31:0] h_iter_out = {18'd0, q_head[48:35]};
    wire [31:0] h_iter_in  = {18'd0, q_head[62:49]};
    wire h_is_load  = h_op == OP_LOAD && (h_mem == MEM_UOP || h_mem == MEM_ACC);
    wire h_is_loop  = h_op == OP_GEMM || h_op == OP_ALU;
    wire h_no_iters = h_iter_out == 32'd0 || h_iter_in == 32'd0 || h_uop_end <= h_uop_bgn;
    wire tokens_ok  = (!h_pop_prev || l2c_nonempty) && (!h_pop_next || s2c_nonempty);
    wire start      = state == S_IDLE && !q_empty && tokens_ok;
    wire start_load = start && h_is_load;
    wire start_loop = start && h_is_loop && !h_no_iters;
    wire start_retire = start && !start_load && !start_loop;

    // ---- LOAD UOP / LOAD ACC
    wire                 reader_finish;
    wire                 reader_we;
    // verilator lint_off UNUSEDSIGNAL
    wire [31:0]          reader_addr;  // high bits unused: rows past a buffer are decode errors
    // verilator lint_on UNUSEDSIGNAL
    wire [DATA_BITS-1:0] reader_data;
    vta_mem_reader #(.DATA_BITS(DATA_BITS)) u_reader (
        .clk(clk), .rst(rst), .start(start_load), .insn(q_head[127:0]),
        .elem_log_bytes(h_mem == MEM_UOP ? UOP_LOG : ACC_LOG), .finish(reader_finish),
        .mem_req_valid(mem_req_valid), .mem_req_ready(mem_req_ready), .mem_req_addr(mem_req_addr),
        .mem_resp_valid(mem_resp_valid), .mem_resp_data(mem_resp_data),
        .sram_we(reader_we), .sram_addr(reader_addr), .sram_wdata(reader_data)
    );

    // ---- GEMM / ALU loop: stage 0 issues micro-op u of iteration (o, i)
    wire u_wrap    = u == uop_end - 32'd1;
    wire i_wrap    = i == iter_in - 32'd1;
    wire last_iter = u_wrap && i_wrap && o == iter_out - 32'd1;
    assign uop_raddr = u[UOP_AW-1:0];

    // stage 1: row indices from the micro-op (bits past a buffer's depth are dropped: an index
    // past the buffer is a decode error the ILA rejects)
    // verilator lint_off UNUSEDSIGNAL
    wire [31:0] a = {21'd0, uop_rdata[10:0]} + s1_dst;
    wire [31:0] x = {21'd0, uop_rdata[21:11]} + s1_src;
    wire [31:0] w = {22'd0, uop_rdata[31:22]} + s1_wgt;
    // verilator lint_on UNUSEDSIGNAL
    assign inp_raddr  = x[INP_AW-1:0];
    assign wgt_raddr  = w[WGT_AW-1:0];
    assign acc_raddr0 = a[ACC_AW-1:0];
    assign acc_raddr1 = x[ACC_AW-1:0];

    // stage 2: the datapath and the writes
    wire [ACC_BITS-1:0] dst_row = fwd0 ? fwd_data : acc_rdata0;
    wire [ACC_BITS-1:0] src_row = fwd1 ? fwd_data : acc_rdata1;
    wire [ACC_BITS-1:0] gemm_row;
    wire [ACC_BITS-1:0] alu_row;
    vta_gemm_core #(.BLOCK_IN(BLOCK_IN), .BLOCK_OUT(BLOCK_OUT)) u_gemm (
        .reset(reset_reg), .inp(inp_rdata), .wgt(wgt_rdata), .acc_in(dst_row), .acc_out(gemm_row)
    );
    vta_alu #(.BLOCK_OUT(BLOCK_OUT)) u_alu (
        .reset(reset_reg), .opcode(alu_opcode), .use_imm(use_imm), .imm(imm),
        .a(dst_row), .b(src_row), .result(alu_row)
    );
    wire [ACC_BITS-1:0] result = is_alu ? alu_row : gemm_row;
    wire loop_finish = s2_valid && s2_last;

    assign acc_we    = s2_valid || (reader_we && to_acc);
    assign acc_waddr = s2_valid ? s2_a : reader_addr[ACC_AW-1:0];
    assign acc_wdata = s2_valid ? result : reader_data[ACC_BITS-1:0];
    assign uop_we    = reader_we && !to_acc;
    assign uop_waddr = reader_addr[UOP_AW-1:0];
    assign uop_wdata = reader_data[31:0];
    assign out_we    = s2_valid;
    assign out_waddr = s2_a;
    genvar j;
    generate
        for (j = 0; j < BLOCK_OUT; j = j + 1) begin : g_out
            assign out_wdata[8*j +: 8] = result[32*j +: 8];
        end
    endgenerate

    // ---- retirement and tokens
    wire finish = start_retire || (state == S_LOAD && reader_finish) || (state == S_LOOP && loop_finish);
    assign q_pop    = start;
    assign pop_l2c  = start && h_pop_prev;
    assign pop_s2c  = start && h_pop_next;
    assign push_c2l = finish && (start_retire ? q_head[5] : push_prev);
    assign push_c2s = finish && (start_retire ? q_head[6] : push_next);
    assign busy     = state != S_IDLE;

    always @(posedge clk) begin
        if (rst) begin
            state        <= S_IDLE;
            done         <= 8'd0;
            issuing      <= 1'b0;
            s1_valid     <= 1'b0;
            s2_valid     <= 1'b0;
            retire_valid <= 1'b0;
        end else begin
            retire_valid <= finish;
            if (finish) retire_index <= start_retire ? q_head[159:128] : index;
            if (start && h_op == OP_FINISH) done <= 8'd1;
            if (start) begin
                index     <= q_head[159:128];
                push_prev <= q_head[5];
                push_next <= q_head[6];
                to_acc    <= h_mem == MEM_ACC;
            end
            if (start_load) state <= S_LOAD;
            if (state == S_LOAD && reader_finish) state <= S_IDLE;
            if (state == S_LOOP && loop_finish) state <= S_IDLE;
            if (start_loop) begin
                state      <= S_LOOP;
                issuing    <= 1'b1;
                is_alu     <= h_op == OP_ALU;
                reset_reg  <= q_head[7];
                alu_opcode <= q_head[110:108];
                use_imm    <= q_head[111];
                imm        <= q_head[127:112];
                uop_bgn    <= h_uop_bgn;
                uop_end    <= h_uop_end;
                iter_out   <= h_iter_out;
                iter_in    <= h_iter_in;
                dst_fo     <= {21'd0, q_head[74:64]};
                dst_fi     <= {21'd0, q_head[85:75]};
                src_fo     <= {21'd0, q_head[96:86]};
                src_fi     <= {21'd0, q_head[107:97]};
                wgt_fo     <= {22'd0, q_head[117:108]};
                wgt_fi     <= {22'd0, q_head[127:118]};
                o          <= 32'd0;
                i          <= 32'd0;
                u          <= h_uop_bgn;
                dst_o      <= 32'd0;
                src_o      <= 32'd0;
                wgt_o      <= 32'd0;
                dst_oi     <= 32'd0;
                src_oi     <= 32'd0;
                wgt_oi     <= 32'd0;
            end
            // stage 0 -> 1
            s1_valid <= issuing;
            if (issuing) begin
                s1_dst  <= dst_oi;
                s1_src  <= src_oi;
                s1_wgt  <= wgt_oi;
                s1_last <= last_iter;
                if (last_iter) issuing <= 1'b0;
                if (!u_wrap) begin
                    u <= u + 32'd1;
                end else begin
                    u <= uop_bgn;
                    if (!i_wrap) begin
                        i      <= i + 32'd1;
                        dst_oi <= dst_oi + dst_fi;
                        src_oi <= src_oi + src_fi;
                        wgt_oi <= wgt_oi + wgt_fi;
                    end else begin
                        i      <= 32'd0;
                        o      <= o + 32'd1;
                        dst_o  <= dst_o + dst_fo;
                        src_o  <= src_o + src_fo;
                        wgt_o  <= wgt_o + wgt_fo;
                        dst_oi <= dst_o + dst_fo;
                        src_oi <= src_o + src_fo;
                        wgt_oi <= wgt_o + wgt_fo;
                    end
                end
            end
            // stage 1 -> 2
            s2_valid <= s1_valid;
            s2_last  <= s1_last;
            s2_a     <= a[ACC_AW-1:0];
            fwd0     <= acc_we && acc_waddr == a[ACC_AW-1:0];
            fwd1     <= acc_we && acc_waddr == x[ACC_AW-1:0];
            fwd_data <= acc_wdata;
        end
    end
endmodule
