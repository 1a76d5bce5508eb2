// hlscnn_top: HLSCNN (docs/hlscnn.md) behind the Tandem port convention (rtl/README.md).
// A command is one MMIO beat (ila_models/mmio.py): data [127:0], addr [159:128], wr [160],
// rd [161]. The top decodes the address (configuration register, SPAD0, SPAD1 or the
// virtual-memory window), writes configuration registers itself, and hands scratchpad transfers
// and virtual-memory writes to the AXI master (hlscnn_dma) and the conv/FC/reduction triggers to
// the engine (hlscnn_engine). One instruction is in flight at a time; it retires on unit 0.
// Latency: a configuration write retires 2 cycles after it is accepted; the others take their
// unit's latency plus 2.
module hlscnn_top #(
    parameter int WEIGHT_BITS = 16,
    parameter int SPAD_ENTRIES = 8192
) (
    input  wire         clk,
    input  wire         rst,
    input  wire         cmd_valid,
    output wire         cmd_ready,
    input  wire [191:0] cmd_data,
    output reg  [0:0]   retire_valid,
    output reg  [31:0]  retire_index,
    output wire         busy,
    input  wire         serial_mode,
    output wire         mem_req_valid,
    input  wire         mem_req_ready,
    output wire         mem_req_we,
    output wire [31:0]  mem_req_addr,
    output wire [127:0] mem_req_wdata,
    output wire [15:0]  mem_req_wstrb,
    input  wire         mem_resp_valid,
    input  wire [127:0] mem_resp_data
);
    localparam int AW = $clog2(SPAD_ENTRIES);
    localparam logic [23:0] SPAD0_OFF = 24'h004000;
    localparam logic [23:0] SPAD1_OFF = SPAD0_OFF + 24'(16 * SPAD_ENTRIES);
    localparam logic [1:0] S_IDLE = 2'd0, S_EXEC = 2'd1, S_WAIT = 2'd2;

    reg [1:0]   state;
    reg [191:0] cmd;
    reg [31:0]  index, next_index;
    reg [31:0]  cfg [0:29] /*verilator public_flat_rd*/;

    // ---- decode (the ILA rejects what this does not check: window, alignment, unknown registers)
    wire [23:0]  off      = cmd[151:128];
    wire         is_rd    = cmd[161];
    wire         is_vir   = off[23];
    wire         is_cfg   = !is_vir && off < SPAD0_OFF;
    wire         is_spad0 = !is_vir && !is_cfg && off < SPAD1_OFF;
    wire [4:0]   reg_id   = off[6:2];
    wire [127:0] aligned  = cmd[127:0] >> {off[3:0], 3'b000};
    wire [31:0]  value    = aligned[31:0];
    wire [23:0]  spad_off = off - (is_spad0 ? SPAD0_OFF : SPAD1_OFF);
    wire         is_conv  = reg_id == 5'd17;
    wire         is_fc    = reg_id == 5'd12;
    wire         is_red   = reg_id == 5'd25;
    wire         trigger  = is_cfg && (is_conv || is_fc || is_red);

    wire eng_done, eng_active, dma_done, dma_active;
    wire          eng_req_valid, dma_req_valid, dma_req_we;
    wire [31:0]   eng_req_addr, dma_req_addr;
    wire [127:0]  dma_req_wdata;
    wire [AW-1:0] eng_spad0_raddr, eng_spad1_addr, dma_spad_addr;
    wire          eng_spad1_we, dma_spad_we, dma_spad_sel;
    wire [127:0]  eng_spad1_wdata, dma_spad_wdata, spad0_rdata, spad1_rdata;
    assign busy      = state != S_IDLE;
    assign cmd_ready = state == S_IDLE && !(serial_mode && busy);

    always @(posedge clk) begin
        retire_valid <= 1'b0;
        if (rst) begin
            state      <= S_IDLE;
            next_index <= 32'd0;
        end else begin
            case (state)
                S_IDLE: if (cmd_valid && cmd_ready) begin
                    cmd        <= cmd_data;
                    index      <= next_index;
                    next_index <= next_index + 32'd1;
                    state      <= S_EXEC;
                end
                S_EXEC: begin
                    if (is_cfg && !trigger) begin
                        cfg[reg_id]  <= value;
                        retire_valid <= 1'b1;
                        retire_index <= index;
                        state        <= S_IDLE;
                    end else begin
                        state <= S_WAIT;
                    end
                end
                S_WAIT: if (eng_done || dma_done) begin
                    retire_valid <= 1'b1;
                    retire_index <= index;
                    state        <= S_IDLE;
                end
                default: state <= S_IDLE;
            endcase
        end
    end

    // ---- engine parameters: the conv registers, or the FC registers as a 1x1 conv, or the reduction's
    wire [31:0] in_size  = cfg[21];
    wire [31:0] out_size = cfg[22];
    wire [31:0] kernel   = cfg[23];
    wire [31:0] channel  = cfg[24];
    wire [31:0] fc_size  = cfg[15];
    wire [31:0] bias_act = cfg[16];
    wire [15:0] fc_batch = {13'd0, fc_size[26:24]} + 16'd1;
    wire        eng_start = state == S_EXEC && trigger;

    hlscnn_engine #(.WEIGHT_BITS(WEIGHT_BITS), .AW(AW)) u_engine (
        .clk(clk), .rst(rst), .start(eng_start), .mode(is_red),
        .act_base(is_red ? cfg[26] : (is_fc ? cfg[14] : cfg[18])),
        .wgt_base(is_fc ? cfg[13] : cfg[19]),
        .out_base(is_red ? cfg[27] : cfg[20]),
        .in_rows(is_fc ? fc_batch : {6'd0, in_size[19:10]}),
        .in_cols(is_fc ? 16'd1 : {6'd0, in_size[9:0]}),
        .chans(is_fc ? {4'd0, fc_size[11:0]} : {4'd0, in_size[31:20]}),
        .k_rows(is_fc ? 16'd1 : {8'd0, kernel[15:8]}),
        .k_cols(is_fc ? 16'd1 : {8'd0, kernel[7:0]}),
        .r_stride(is_fc ? 16'd1 : {13'd0, kernel[21:19]}),
        .c_stride(is_fc ? 16'd1 : {13'd0, kernel[18:16]}),
        .out_rows(is_fc ? fc_batch : {6'd0, out_size[19:10]}),
        .out_cols(is_fc ? 16'd1 : {6'd0, out_size[9:0]}),
        .filters(is_red ? cfg[28][15:0] : (is_fc ? {4'd0, fc_size[23:12]} : {8'd0, channel[26:19]})),
        .bias(is_red ? cfg[29][15:0] : channel[15:0]),
        .bias_en(is_fc ? bias_act[2] : channel[16]),
        .act(is_fc ? bias_act[1:0] : {1'b0, channel[17]}),
        .threshold(bias_act[24:3]),
        .accum(!is_fc && channel[18]),
        .write_back(is_fc || channel[27]),
        .done(eng_done), .active(eng_active),
        .mem_req_valid(eng_req_valid), .mem_req_ready(mem_req_ready), .mem_req_addr(eng_req_addr),
        .mem_resp_valid(mem_resp_valid), .mem_resp_data(mem_resp_data),
        .spad0_raddr(eng_spad0_raddr), .spad0_rdata(spad0_rdata),
        .spad1_we(eng_spad1_we), .spad1_addr(eng_spad1_addr), .spad1_wdata(eng_spad1_wdata),
        .spad1_rdata(spad1_rdata)
    );

    // ---- the AXI master: scratchpad transfers and virtual-memory writes
    wire dma_start = state == S_EXEC && !is_cfg;
    hlscnn_dma #(.AW(AW)) u_dma (
        .clk(clk), .rst(rst), .start(dma_start),
        .op(is_vir ? 2'd2 : (is_rd ? 2'd1 : 2'd0)), .spad_sel(!is_spad0),
        .entry(spad_off[AW+3:4]), .soc_base(cfg[4]), .length(cfg[5]),
        .vir_addr({9'd0, off[22:0]}), .vir_data(cmd[127:0]),
        .done(dma_done), .active(dma_active),
        .mem_req_valid(dma_req_valid), .mem_req_ready(mem_req_ready), .mem_req_we(dma_req_we),
        .mem_req_addr(dma_req_addr), .mem_req_wdata(dma_req_wdata),
        .mem_resp_valid(mem_resp_valid), .mem_resp_data(mem_resp_data),
        .spad_we(dma_spad_we), .spad_wsel(dma_spad_sel), .spad_addr(dma_spad_addr),
        .spad_wdata(dma_spad_wdata), .spad0_rdata(spad0_rdata), .spad1_rdata(spad1_rdata)
    );

    // ---- the DRAM port and the scratchpads, shared by whichever unit is active

    assign mem_req_valid = eng_active ? eng_req_valid : dma_req_valid;
    assign mem_req_we    = !eng_active && dma_req_we;
    assign mem_req_addr  = eng_active ? eng_req_addr : dma_req_addr;
    assign mem_req_wdata = dma_req_wdata;
    assign mem_req_wstrb = 16'hffff;

    hlscnn_spad #(.DEPTH(SPAD_ENTRIES)) u_spad0 (
        .clk(clk), .we(dma_spad_we && !dma_spad_sel), .waddr(dma_spad_addr), .wdata(dma_spad_wdata),
        .raddr(eng_active ? eng_spad0_raddr : dma_spad_addr), .rdata(spad0_rdata)
    );
    hlscnn_spad #(.DEPTH(SPAD_ENTRIES)) u_spad1 (
        .clk(clk), .we(eng_active ? eng_spad1_we : dma_spad_we && dma_spad_sel),
        .waddr(eng_active ? eng_spad1_addr : dma_spad_addr),
        .wdata(eng_active ? eng_spad1_wdata : dma_spad_wdata),
        .raddr(eng_active ? eng_spad1_addr : dma_spad_addr), .rdata(spad1_rdata)
    );

    // verilator lint_off UNUSEDSIGNAL
    wire unused = ^{cmd[191:162], cmd[160], cmd[159:152], off[1:0], spad_off[3:0], spad_off[23:AW+4],
                    aligned[127:32], out_size[31:20], kernel[31:22], channel[31:28], fc_size[31:27],
                    bias_act[31:25], cfg[28][31:16], cfg[29][31:16], dma_active};
    // verilator lint_on UNUSEDSIGNAL
endmodule
