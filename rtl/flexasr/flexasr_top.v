// flexasr_top: FlexASR (docs/flexasr.md) behind the Tandem port convention (rtl/README.md).
// A command is one MMIO beat (ila_models/mmio.py): data [127:0], addr [159:128], wr [160], rd [161].
// The top decodes the address into the GB (0x33xxxxxx: START of an operation, configuration beat,
// large or small buffer) or PE p (0x34xxxxxx + p 0x01000000: configuration beat, weight, input or
// activation buffer), hands writes and reads to that partition's host port, and latches a read's
// data into `rdata` (the ILA's state of that name). Addresses the ILA rejects (unmapped,
// misaligned) are not checked here: lockstep stops at the ILA's DecodeError. One instruction is in
// flight at a time; it retires on unit 0. The DRAM port is tied off (FlexASR has no DRAM master).
// Latency: a write retires 2 cycles after it is accepted, a read 3, a START when its operation is
// done (all of its results written) plus 2.
module flexasr_top (
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
    localparam logic [1:0] S_IDLE = 2'd0, S_EXEC = 2'd1, S_READ = 2'd2, S_WAIT = 2'd3;

    reg [1:0]   state;
    reg [191:0] cmd;
    reg [31:0]  index, next_index;
    reg [127:0] rdata /*verilator public_flat_rd*/;
    reg         read_pe;
    reg [1:0]   read_pe_id;

    // ---- decode
    wire [127:0] data   = cmd[127:0];
    wire [31:0]  addr   = cmd[159:128];
    wire         is_wr  = cmd[160];
    wire [23:0]  off    = addr[23:0];
    wire [3:0]   region = off[23:20];
    wire         is_gb  = addr[31:24] == 8'h33;
    wire [7:0]   pe_sel = addr[31:24] - 8'h34;
    wire [1:0]   pe_id  = pe_sel[1:0];
    wire         is_start = is_gb && off[23:8] == 16'd0;
    // configuration beat rows: GB_CONFIGS / PE_CONFIGS order (ila_models/flexasr_isa.py)
    wire [3:0]   cfg_row_4 = off[7:4] - 4'd1;                 // 0x0040_0010 .. 0x0040_0050
    wire [3:0]   gb_row    = region == 4'h4 ? cfg_row_4 : region - 4'd5;  // 0x0070_0010 .. 0x00B0_0010
    wire [3:0]   pe_row    = region == 4'h4 ? cfg_row_4 : off[7:4] + 4'd4;  // 0x0080_0010 .. 30
    wire [1:0]   gb_sel    = region == 4'h5 ? 2'd0 : (region == 4'h6 ? 2'd1 : 2'd2);
    wire [15:0]  gb_addr   = gb_sel == 2'd2 ? {12'd0, gb_row} : off[19:4];
    wire [1:0]   pe_hsel   = region == 4'h5 ? 2'd1 : (region == 4'h6 ? 2'd2 : (region == 4'h9 ? 2'd3 : 2'd0));
    wire [15:0]  pe_addr   = pe_hsel == 2'd0 ? {12'd0, pe_row} : off[19:4];

    wire         exec = state == S_EXEC;
    wire         gb_done, gb_busy;
    wire [127:0] gb_rdata;
    wire [3:0]   pe_valid, pe_busy, pe_out_rhit, pe_host_we;
    wire [511:0] pe_out_rdata, pe_host_rdata;
    wire         pe_start, pe_in_we, pe_in_sel;
    wire [7:0]   pe_in_index, pe_out_raddr;
    wire [127:0] pe_in_data;

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
                    read_pe    <= !is_gb;
                    read_pe_id <= pe_id;
                    if (!is_wr) begin
                        state <= S_READ;
                    end else if (is_start) begin
                        state <= S_WAIT;
                    end else begin
                        retire_valid <= 1'b1;
                        retire_index <= index;
                        state        <= S_IDLE;
                    end
                end
                S_READ: begin
                    rdata        <= read_pe ? pe_host_rdata[128*read_pe_id +: 128] : gb_rdata;
                    retire_valid <= 1'b1;
                    retire_index <= index;
                    state        <= S_IDLE;
                end
                S_WAIT: if (gb_done) begin
                    retire_valid <= 1'b1;
                    retire_index <= index;
                    state        <= S_IDLE;
                end
                default: state <= S_IDLE;
            endcase
        end
    end

    flexasr_gb u_gb (
        .clk(clk), .rst(rst), .host_we(exec && is_wr && is_gb && !is_start), .host_sel(gb_sel),
        .host_addr(gb_addr), .host_wdata(data), .host_rdata(gb_rdata),
        .start(exec && is_wr && is_start), .start_op(off[6:4]), .busy(gb_busy), .done(gb_done),
        .pe_valid(pe_valid), .pe_busy(pe_busy), .pe_start(pe_start), .pe_in_we(pe_in_we),
        .pe_in_sel(pe_in_sel), .pe_in_index(pe_in_index), .pe_in_data(pe_in_data),
        .pe_out_raddr(pe_out_raddr), .pe_out_rdata(pe_out_rdata), .pe_out_rhit(pe_out_rhit)
    );

    assign pe_host_we = {4{exec && is_wr && !is_gb}} & (4'b0001 << pe_id);
    flexasr_pe u_pe0 (
        .clk(clk), .rst(rst), .host_we(pe_host_we[0]), .host_sel(pe_hsel), .host_addr(pe_addr),
        .host_wdata(data), .host_rdata(pe_host_rdata[0 +: 128]), .in_we(pe_in_we), .in_sel(pe_in_sel),
        .in_index(pe_in_index), .in_data(pe_in_data), .start(pe_start), .busy(pe_busy[0]),
        .valid(pe_valid[0]), .out_raddr(pe_out_raddr), .out_rdata(pe_out_rdata[0 +: 128]),
        .out_rhit(pe_out_rhit[0])
    );
    flexasr_pe u_pe1 (
        .clk(clk), .rst(rst), .host_we(pe_host_we[1]), .host_sel(pe_hsel), .host_addr(pe_addr),
        .host_wdata(data), .host_rdata(pe_host_rdata[128 +: 128]), .in_we(pe_in_we), .in_sel(pe_in_sel),
        .in_index(pe_in_index), .in_data(pe_in_data), .start(pe_start), .busy(pe_busy[1]),
        .valid(pe_valid[1]), .out_raddr(pe_out_raddr), .out_rdata(pe_out_rdata[128 +: 128]),
        .out_rhit(pe_out_rhit[1])
    );
    flexasr_pe u_pe2 (
        .clk(clk), .rst(rst), .host_we(pe_host_we[2]), .host_sel(pe_hsel), .host_addr(pe_addr),
        .host_wdata(data), .host_rdata(pe_host_rdata[256 +: 128]), .in_we(pe_in_we), .in_sel(pe_in_sel),
        .in_index(pe_in_index), .in_data(pe_in_data), .start(pe_start), .busy(pe_busy[2]),
        .valid(pe_valid[2]), .out_raddr(pe_out_raddr), .out_rdata(pe_out_rdata[256 +: 128]),
        .out_rhit(pe_out_rhit[2])
    );
    flexasr_pe u_pe3 (
        .clk(clk), .rst(rst), .host_we(pe_host_we[3]), .host_sel(pe_hsel), .host_addr(pe_addr),
        .host_wdata(data), .host_rdata(pe_host_rdata[384 +: 128]), .in_we(pe_in_we), .in_sel(pe_in_sel),
        .in_index(pe_in_index), .in_data(pe_in_data), .start(pe_start), .busy(pe_busy[3]),
        .valid(pe_valid[3]), .out_raddr(pe_out_raddr), .out_rdata(pe_out_rdata[384 +: 128]),
        .out_rhit(pe_out_rhit[3])
    );

    // the DRAM port: unused
    assign mem_req_valid = 1'b0;
    assign mem_req_we    = 1'b0;
    assign mem_req_addr  = 32'd0;
    assign mem_req_wdata = 128'd0;
    assign mem_req_wstrb = 16'd0;

    // verilator lint_off UNUSEDSIGNAL
    wire unused = ^{cmd[191:161], off[3:0], pe_sel[7:2], gb_busy, mem_req_ready, mem_resp_valid,
                    mem_resp_data};
    // verilator lint_on UNUSEDSIGNAL
endmodule
