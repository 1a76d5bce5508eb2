// vta_mem_reader: the body of a VTA LOAD: copies a 2-D tile from DRAM into an SRAM buffer with
// zero padding on all four sides (docs/vta.md, LOAD). Elements of 2**elem_log_bytes bytes: an
// element smaller than a 16-byte beat is cut out of one beat; a larger one takes several beats.
// Writes (y_pad_0 + y_size + y_pad_1) rows of (x_pad_0 + x_size + x_pad_1) elements from
// sram_base on; x_size == 0 writes nothing.
// Latency: one padding element per cycle; one DRAM beat per granted cycle, the element written
// when its last beat arrives (one cycle after that beat's request is taken). `finish` is high in
// the cycle whose edge makes the last write (or the cycle after it), so a unit retiring on it
// retires with every write visible.
module vta_mem_reader #(
    parameter int DATA_BITS = 128
) (
    input  wire                 clk,
    input  wire                 rst,
    input  wire                 start,
    // verilator lint_off UNUSEDSIGNAL
    input  wire [127:0]         insn,  // the LOAD; opcode, token bits and SRAM base/type are the unit's
    // verilator lint_on UNUSEDSIGNAL
    input  wire [3:0]           elem_log_bytes,
    output wire                 finish,
    // DRAM reads
    output wire                 mem_req_valid,
    input  wire                 mem_req_ready,
    output wire [31:0]          mem_req_addr,
    input  wire                 mem_resp_valid,
    input  wire [127:0]         mem_resp_data,
    // SRAM writes
    output wire                 sram_we,
    output wire [31:0]          sram_addr,
    output wire [DATA_BITS-1:0] sram_wdata
);
    localparam int ASM_BITS = ((DATA_BITS + 127) / 128) * 128;

    reg        active;
    reg        gen_busy;   // elements left to request or pad
    reg [31:0] dram_base, y_size, x_size, x_stride, y_pad_0, x_pad_0;
    reg [31:0] y_total, x_total;
    reg [3:0]  log_bytes;
    reg [31:0] y, x, sram_index;
    reg [7:0]  beat;
    // the beat in flight (requested at the last edge, answered in this cycle)
    reg        resp_due;
    reg        infl_last;
    reg [7:0]  infl_beat;
    reg [3:0]  infl_off;
    reg [31:0] infl_sram;
    reg [ASM_BITS-1:0] assemble;
    reg [ASM_BITS-1:0] merged;

    // fields of the instruction being started (docs/vta.md, LOAD/STORE)
    wire [31:0] f_y_total = {16'd0, insn[79:64]} + {28'd0, insn[115:112]} + {28'd0, insn[119:116]};
    wire [31:0] f_x_total = {16'd0, insn[95:80]} + {28'd0, insn[123:120]} + {28'd0, insn[127:124]};

    wire        sub_beat  = log_bytes < 4'd4;
    wire [7:0]  beats_m1  = sub_beat ? 8'd0 : (8'd1 << (log_bytes - 4'd4)) - 8'd1;
    wire        y_in      = y >= y_pad_0 && y < y_pad_0 + y_size;
    wire        x_in      = x >= x_pad_0 && x < x_pad_0 + x_size;
    wire        is_data   = y_in && x_in;
    wire [31:0] elem      = dram_base + (y - y_pad_0) * x_stride + (x - x_pad_0);
    wire [31:0] byte_addr = elem << log_bytes;
    wire        grant     = mem_req_valid && mem_req_ready;
    wire        pad_write = gen_busy && !is_data && !resp_due;
    wire        resp_write = resp_due && mem_resp_valid && infl_last;
    wire        elem_done = pad_write || (grant && beat == beats_m1);
    wire        last_elem = x == x_total - 32'd1 && y == y_total - 32'd1;

    assign finish        = active && !gen_busy;
    assign mem_req_valid = gen_busy && is_data;
    assign mem_req_addr  = {byte_addr[31:4], 4'b0000} + {20'd0, beat, 4'b0000};
    assign sram_we       = pad_write || resp_write;
    assign sram_addr     = pad_write ? sram_index : infl_sram;
    assign sram_wdata    = pad_write ? {DATA_BITS{1'b0}} : merged[DATA_BITS-1:0];

    always @(*) begin
        merged = assemble;
        if (sub_beat) merged[127:0] = mem_resp_data >> {infl_off, 3'b000};
        // verilator lint_off WIDTHTRUNC
        // (the beat index stays below the element's beats for every legal element size)
        else merged[{infl_beat, 7'b0000000} +: 128] = mem_resp_data;
        // verilator lint_on WIDTHTRUNC
    end

    always @(posedge clk) begin
        if (rst) begin
            active   <= 1'b0;
            gen_busy <= 1'b0;
            resp_due <= 1'b0;
        end else begin
            resp_due <= grant;
            if (grant) begin
                infl_sram <= sram_index;
                infl_beat <= beat;
                infl_last <= beat == beats_m1;
                infl_off  <= byte_addr[3:0];
            end
            if (resp_due && mem_resp_valid) assemble <= merged;
            if (start) begin
                active     <= 1'b1;
                gen_busy   <= insn[95:80] != 16'd0 && f_y_total != 32'd0;
                dram_base  <= insn[57:26];
                y_size     <= {16'd0, insn[79:64]};
                x_size     <= {16'd0, insn[95:80]};
                x_stride   <= {16'd0, insn[111:96]};
                y_pad_0    <= {28'd0, insn[115:112]};
                x_pad_0    <= {28'd0, insn[123:120]};
                y_total    <= f_y_total;
                x_total    <= f_x_total;
                log_bytes  <= elem_log_bytes;
                y          <= 32'd0;
                x          <= 32'd0;
                beat       <= 8'd0;
                sram_index <= {16'd0, insn[25:10]};
            end else if (finish) begin
                active <= 1'b0;
            end
            if (gen_busy && !start) begin
                if (grant && beat != beats_m1) beat <= beat + 8'd1;
                if (elem_done) begin
                    beat       <= 8'd0;
                    sram_index <= sram_index + 32'd1;
                    if (last_elem) gen_busy <= 1'b0;
                    else if (x == x_total - 32'd1) begin
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
