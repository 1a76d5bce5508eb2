// hlscnn_dma: HLSCNN's AXI master for scratchpad transfers and virtual-memory writes, over the
// harness's DRAM port (the virtual SoC memory).
// Computes (docs/hlscnn.md, Instructions):
//   op 0 SPADx_DATA_WR: for k < length: spad[entry + k] = soc[soc_base + 16k +: 16]
//   op 1 SPADx_DATA_RD: for k < length: soc[soc_base + 16k +: 16] = spad[entry + k]
//   op 2 VIR_MEM_WR:    soc[vir_addr +: 16] = vir_data
// `spad_sel` picks SPAD0 (0) or SPAD1 (1).
// Latency: 2 cycles per beat (request, response or scratchpad read, write), plus one cycle;
// `done` is high for one cycle after the last write is visible.
module hlscnn_dma #(
    parameter int AW = 13
) (
    input  wire          clk,
    input  wire          rst,
    input  wire          start,
    input  wire [1:0]    op,
    input  wire          spad_sel,
    input  wire [AW-1:0] entry,
    input  wire [31:0]   soc_base,
    input  wire [31:0]   length,
    input  wire [31:0]   vir_addr,
    input  wire [127:0]  vir_data,
    output wire          done,
    output wire          active,
    // DRAM port
    output reg           mem_req_valid,
    input  wire          mem_req_ready,
    output reg           mem_req_we,
    output reg  [31:0]   mem_req_addr,
    output reg  [127:0]  mem_req_wdata,
    input  wire          mem_resp_valid,
    input  wire [127:0]  mem_resp_data,
    // scratchpads
    output reg           spad_we,
    output reg           spad_wsel,
    output wire [AW-1:0] spad_addr,
    output wire [127:0]  spad_wdata,
    input  wire [127:0]  spad0_rdata,
    input  wire [127:0]  spad1_rdata
);
    localparam logic [2:0] D_IDLE = 3'd0, D_FETCH = 3'd1, D_FILL = 3'd2, D_READ = 3'd3,
                           D_STORE = 3'd4, D_VIR = 3'd5, D_DONE = 3'd6;
    reg [2:0]    state;
    reg          sel;
    reg [AW-1:0] base_entry;
    reg [31:0]   base, count, k, vaddr;
    reg [127:0]  vdata;

    wire last = k + 32'd1 >= count;
    assign done = state == D_DONE;
    assign active = state != D_IDLE;
    assign spad_addr = base_entry + k[AW-1:0];
    assign spad_wdata = mem_resp_data;

    always @(*) begin
        mem_req_valid = 1'b0;
        mem_req_we    = 1'b0;
        mem_req_addr  = base + {k[27:0], 4'b0000};
        mem_req_wdata = sel ? spad1_rdata : spad0_rdata;
        spad_we       = state == D_FILL && mem_resp_valid;
        spad_wsel     = sel;
        case (state)
            D_FETCH: mem_req_valid = 1'b1;
            D_STORE: begin
                mem_req_valid = 1'b1;
                mem_req_we    = 1'b1;
            end
            D_VIR: begin
                mem_req_valid = 1'b1;
                mem_req_we    = 1'b1;
                mem_req_addr  = vaddr;
                mem_req_wdata = vdata;
            end
            default: ;
        endcase
    end

    always @(posedge clk) begin
        if (rst) begin
            state <= D_IDLE;
        end else begin
            case (state)
                D_IDLE: if (start) begin
                    sel        <= spad_sel;
                    base_entry <= entry;
                    base       <= soc_base;
                    count      <= length;
                    vaddr      <= vir_addr;
                    vdata      <= vir_data;
                    k          <= 32'd0;
                    state      <= op == 2'd0 ? D_FETCH : (op == 2'd1 ? D_READ : D_VIR);
                end
                D_FETCH: if (mem_req_ready) state <= D_FILL;
                D_FILL: if (mem_resp_valid) begin
                    k     <= k + 32'd1;
                    state <= last ? D_DONE : D_FETCH;
                end
                D_READ: state <= D_STORE;  // the scratchpad's read data arrive in D_STORE
                D_STORE: if (mem_req_ready) begin
                    k     <= k + 32'd1;
                    state <= last ? D_DONE : D_READ;
                end
                D_VIR: if (mem_req_ready) state <= D_DONE;
                default: state <= D_IDLE;
            endcase
        end
    end

    // verilator lint_off UNUSEDSIGNAL
    wire unused_k = ^k[31:28];  // beats beyond 2**28 would leave the 32-bit address space
    // verilator lint_on UNUSEDSIGNAL
endmodule
