// vta_store: the store unit. Runs STORE instructions one at a time in program order: waits for a
// compute->store token when pop_prev is set, pops it, then for y < y_size, x < x_size writes
// out[sram_base + y*x_size + x] (BLOCK_OUT bytes) to DRAM byte address
// (dram_base + y*x_stride + x) * BLOCK_OUT, and retires pushing a store->compute token when
// push_prev is set. Memory type and padding are not checked (decode errors the ILA rejects).
// Latency: per element one cycle to read the out buffer plus one cycle per granted DRAM beat
// (ceil(BLOCK_OUT/16) beats, strobed when the row is smaller than a beat); retires at the edge
// its last write is taken; an empty STORE retires at the edge it starts.
module vta_store #(
    parameter int BLOCK_OUT = 16,
    parameter int ACC_DEPTH = 2048
) (
    input  wire         clk,
    input  wire         rst,
    // command queue
    input  wire         q_empty,
    // verilator lint_off UNUSEDSIGNAL
    input  wire [159:0] q_head,  // memory type and padding are not checked (see header)
    // verilator lint_on UNUSEDSIGNAL
    output wire         q_pop,
    // dependency tokens
    input  wire         c2s_nonempty,
    output wire         pop_c2s,
    output wire         push_s2c,
    // DRAM writes
    output wire         mem_req_valid,
    input  wire         mem_req_ready,
    output wire [31:0]  mem_req_addr,
    output reg  [127:0] mem_req_wdata,
    output reg  [15:0]  mem_req_wstrb,
    // the out buffer
    output wire [$clog2(ACC_DEPTH)-1:0] out_raddr,
    input  wire [BLOCK_OUT*8-1:0]       out_rdata,
    // retirement
    output wire         busy,
    output reg          retire_valid,
    output reg  [31:0]  retire_index
);
    localparam int OUT_BITS = BLOCK_OUT * 8;
    localparam int PAD_BITS = ((OUT_BITS + 127) / 128) * 128;
    localparam logic [3:0] OUT_LOG = 4'($clog2(BLOCK_OUT));
    localparam logic [1:0] S_IDLE = 2'd0;
    localparam logic [1:0] S_READ = 2'd1;
    localparam logic [1:0] S_WRITE = 2'd2;

    reg [1:0]  state;
    reg [31:0] index;
    reg        push_prev;
    reg [31:0] dram_base, y_size, x_size, x_stride;
    reg [31:0] y, x, sram_index;
    reg [7:0]  beat;
    reg [PAD_BITS-1:0] row;

    wire        h_pop_prev = q_head[3];
    wire        h_empty    = q_head[79:64] == 16'd0 || q_head[95:80] == 16'd0;
    wire        start      = state == S_IDLE && !q_empty && (!h_pop_prev || c2s_nonempty);
    wire        sub_beat   = OUT_LOG < 4'd4;
    wire [7:0]  beats_m1   = sub_beat ? 8'd0 : (8'd1 << (OUT_LOG - 4'd4)) - 8'd1;
    wire [31:0] elem       = dram_base + y * x_stride + x;
    wire [31:0] byte_addr  = elem << OUT_LOG;
    wire [3:0]  offset     = byte_addr[3:0];
    wire        grant      = mem_req_valid && mem_req_ready;
    wire        elem_done  = grant && beat == beats_m1;
    wire        last_elem  = y == y_size - 32'd1 && x == x_size - 32'd1;
    wire        finish     = (start && h_empty) || (elem_done && last_elem);

    assign q_pop         = start;
    assign pop_c2s       = start && h_pop_prev;
    assign push_s2c      = finish && (state == S_IDLE ? q_head[5] : push_prev);
    assign busy          = state != S_IDLE;
    assign out_raddr     = sram_index[$clog2(ACC_DEPTH)-1:0];
    assign mem_req_valid = state == S_WRITE;
    assign mem_req_addr  = {byte_addr[31:4], 4'b0000} + {20'd0, beat, 4'b0000};

    always @(*) begin
        row = {PAD_BITS{1'b0}};
        row[OUT_BITS-1:0] = out_rdata;
        if (sub_beat) begin
            mem_req_wdata = row[127:0] << {offset, 3'b000};
            mem_req_wstrb = ((16'd1 << (5'd1 << OUT_LOG)) - 16'd1) << offset;
        end else begin
            // verilator lint_off WIDTHTRUNC
            // (the beat index stays below the row's beats)
            mem_req_wdata = row[{beat, 7'b0000000} +: 128];
            // verilator lint_on WIDTHTRUNC
            mem_req_wstrb = 16'hffff;
        end
    end

    always @(posedge clk) begin
        if (rst) begin
            state        <= S_IDLE;
            retire_valid <= 1'b0;
        end else begin
            retire_valid <= finish;
            if (finish) retire_index <= state == S_IDLE ? q_head[159:128] : index;
            if (start && !h_empty) begin
                state      <= S_READ;
                index      <= q_head[159:128];
                push_prev  <= q_head[5];
                dram_base  <= q_head[57:26];
                y_size     <= {16'd0, q_head[79:64]};
                x_size     <= {16'd0, q_head[95:80]};
                x_stride   <= {16'd0, q_head[111:96]};
                y          <= 32'd0;
                x          <= 32'd0;
                beat       <= 8'd0;
                sram_index <= {16'd0, q_head[25:10]};
            end
            if (state == S_READ) state <= S_WRITE;
            if (grant && !elem_done) beat <= beat + 8'd1;
            if (elem_done) begin
                beat       <= 8'd0;
                sram_index <= sram_index + 32'd1;
                if (last_elem) begin
                    state <= S_IDLE;
                end else begin
                    state <= S_READ;
                    if (x == x_size - 32'd1) begin
                        x <= 32'd0;
                        y <= y + 32'd1;
                    end else begin
                        x <= x + 32'd1;
                    end
                end
            end
        end
    end
endmodule
