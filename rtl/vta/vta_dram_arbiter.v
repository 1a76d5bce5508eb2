// vta_dram_arbiter: shares the single DRAM port among the load (0), compute (1) and store (2)
// units, round robin starting after the last unit granted. Computes: the granted unit's request
// on the port, its grant, and routes the read response back to it.
// Latency: combinational request path; a read taken at an edge is answered in the next cycle,
// which is steered to the unit that was granted at that edge.
module vta_dram_arbiter (
    input  wire         clk,
    input  wire         rst,
    // requesters, unit u at bit u / slice u
    input  wire [2:0]   req_valid,
    input  wire [2:0]   req_we,
    input  wire [95:0]  req_addr,
    input  wire [383:0] req_wdata,
    input  wire [47:0]  req_wstrb,
    output wire [2:0]   req_grant,
    output wire [2:0]   resp_valid,
    // the port the harness serves
    output wire         mem_req_valid,
    input  wire         mem_req_ready,
    output wire         mem_req_we,
    output wire [31:0]  mem_req_addr,
    output wire [127:0] mem_req_wdata,
    output wire [15:0]  mem_req_wstrb,
    input  wire         mem_resp_valid
);
    reg [1:0] last;        // unit granted most recently
    reg [1:0] resp_owner;  // unit whose read is answered this cycle
    reg       resp_due;
    reg [1:0] sel;         // chosen unit (valid when mem_req_valid)

    // Priority order: last+1, last+2, last (mod 3).
    wire [1:0] first  = last == 2'd2 ? 2'd0 : last + 2'd1;
    wire [1:0] second = first == 2'd2 ? 2'd0 : first + 2'd1;
    always @(*) begin
        if (req_valid[first]) sel = first;
        else if (req_valid[second]) sel = second;
        else sel = last;
    end

    assign mem_req_valid = req_valid != 3'b000;
    assign mem_req_we    = req_we[sel];
    assign mem_req_addr  = req_addr[32*sel +: 32];
    assign mem_req_wdata = req_wdata[128*sel +: 128];
    assign mem_req_wstrb = req_wstrb[16*sel +: 16];
    assign req_grant     = (mem_req_valid && mem_req_ready) ? (3'b001 << sel) : 3'b000;
    assign resp_valid    = (resp_due && mem_resp_valid) ? (3'b001 << resp_owner) : 3'b000;

    always @(posedge clk) begin
        if (rst) begin
            last     <= 2'd2;
            resp_due <= 1'b0;
        end else begin
            resp_due <= mem_req_valid && mem_req_ready && !mem_req_we;
            if (mem_req_valid && mem_req_ready) begin
                last       <= sel;
                resp_owner <= sel;
            end
        end
    end
endmodule
