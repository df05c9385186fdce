// Formal properties of one AER router (`aer_router`, the centre router of a 3x3 mesh), checked
// as a black box: free inputs obeying the stream rules, free backpressure, any flit value.
// Run by verif/test_aer_router_formal.py through SymbiYosys (yowasp-sby, Boolector).
//
// Ports are indexed local, north, east, south, west (0..4). A flit is {y, x, tag, addr}.
//
// Safety (task `safety`): one flit value D and one input port are chosen freely (anyconst);
// D enters through that port at most once and never through another, while every other flit
// is free. The router never looks at a flit's identity, so what holds for D holds for each
// flit:
//   * D is not created or duplicated: flits D out <= flits D in, at every cycle;
//   * D is not lost: whenever the router reports idle, flits D out == flits D in (and the
//     solver may stop the inputs at any time, so every loss shows up at the next idle cycle);
//   * outputs keep the stream rules (valid held, data stable, until taken) and each flit
//     leaves through the port XY routing names.
// Progress (task `progress`): with every output taken at least every other cycle (fair
// backpressure), no input waits more than WAIT cycles to be accepted.

module aer_router_props #(
    parameter W = 6, XW = 2, YW = 2, AT = 2,   // flit width; x, y widths; x's offset in a flit
    parameter X = 1, Y = 1,                    // router position in a 3 x 3 mesh
    parameter WAIT = 12
) (input clk);
    reg rst = 1;
    always @(posedge clk) rst <= 0;

    (* anyseq *) wire [4:0] in_valid;
    (* anyseq *) wire [5*W-1:0] in_data;
    (* anyseq *) wire [4:0] out_ready;
    (* anyconst *) wire [W-1:0] watched;
    (* anyconst *) wire [2:0] watched_port;
    wire [4:0] in_ready, out_valid, forwarded, blocked;
    wire [5*W-1:0] out_data;
    wire idle;

    aer_router dut (
        .clk(clk), .rst(rst), .idle(idle), .forwarded(forwarded), .blocked(blocked),
        .s_axis_local_in_tvalid(in_valid[0]), .s_axis_local_in_tready(in_ready[0]),
        .s_axis_local_in_tdata(in_data[0*W +: W]),
        .s_axis_north_in_tvalid(in_valid[1]), .s_axis_north_in_tready(in_ready[1]),
        .s_axis_north_in_tdata(in_data[1*W +: W]),
        .s_axis_east_in_tvalid(in_valid[2]), .s_axis_east_in_tready(in_ready[2]),
        .s_axis_east_in_tdata(in_data[2*W +: W]),
        .s_axis_south_in_tvalid(in_valid[3]), .s_axis_south_in_tready(in_ready[3]),
        .s_axis_south_in_tdata(in_data[3*W +: W]),
        .s_axis_west_in_tvalid(in_valid[4]), .s_axis_west_in_tready(in_ready[4]),
        .s_axis_west_in_tdata(in_data[4*W +: W]),
        .m_axis_local_out_tvalid(out_valid[0]), .m_axis_local_out_tready(out_ready[0]),
        .m_axis_local_out_tdata(out_data[0*W +: W]),
        .m_axis_north_out_tvalid(out_valid[1]), .m_axis_north_out_tready(out_ready[1]),
        .m_axis_north_out_tdata(out_data[1*W +: W]),
        .m_axis_east_out_tvalid(out_valid[2]), .m_axis_east_out_tready(out_ready[2]),
        .m_axis_east_out_tdata(out_data[2*W +: W]),
        .m_axis_south_out_tvalid(out_valid[3]), .m_axis_south_out_tready(out_ready[3]),
        .m_axis_south_out_tdata(out_data[3*W +: W]),
        .m_axis_west_out_tvalid(out_valid[4]), .m_axis_west_out_tready(out_ready[4]),
        .m_axis_west_out_tdata(out_data[4*W +: W])
    );

    function [XW-1:0] fx(input [W-1:0] f); fx = f[AT +: XW]; endfunction
    function [YW-1:0] fy(input [W-1:0] f); fy = f[AT + XW +: YW]; endfunction

    // Destinations a flit may have on arriving through each port (XY routing inside a 3x3
    // mesh: flits from the west travel east, flits from the south travel north, ...).
    function legal_in(input integer port, input [W-1:0] f);
        legal_in = fx(f) < 3 && fy(f) < 3 &&
            (port == 0 ? 1 :
             port == 1 ? fx(f) == X && fy(f) <= Y :
             port == 2 ? fx(f) <= X :
             port == 3 ? fx(f) == X && fy(f) >= Y :
                         fx(f) >= X);
    endfunction
    // The output XY routing sends a flit to.
    function [2:0] route(input [W-1:0] f);
        route = fx(f) > X ? 2 : fx(f) < X ? 4 : fy(f) > Y ? 1 : fy(f) < Y ? 3 : 0;
    endfunction

    reg [4:0] in_held = 0, out_held = 0;
    reg [5*W-1:0] in_last, out_last;
    reg [4:0] out_idle_run = 0;                 // ready low last cycle, per output
    reg [1:0] in_count = 0, out_count = 0;      // flits equal to `watched`, in and out
    reg [7:0] waited [0:4];
    integer i;
    initial for (i = 0; i < 5; i = i + 1) waited[i] = 0;

    always @(posedge clk) begin
        in_held <= in_valid & ~in_ready;
        out_held <= out_valid & ~out_ready;
        in_last <= in_data;
        out_last <= out_data;
        out_idle_run <= ~out_ready;
        if (!rst) begin
            in_count <= in_count + ((in_valid[0] && in_ready[0] && in_data[0*W +: W] == watched)
                + (in_valid[1] && in_ready[1] && in_data[1*W +: W] == watched)
                + (in_valid[2] && in_ready[2] && in_data[2*W +: W] == watched)
                + (in_valid[3] && in_ready[3] && in_data[3*W +: W] == watched)
                + (in_valid[4] && in_ready[4] && in_data[4*W +: W] == watched));
            out_count <= out_count
                + ((out_valid[0] && out_ready[0] && out_data[0*W +: W] == watched)
                + (out_valid[1] && out_ready[1] && out_data[1*W +: W] == watched)
                + (out_valid[2] && out_ready[2] && out_data[2*W +: W] == watched)
                + (out_valid[3] && out_ready[3] && out_data[3*W +: W] == watched)
                + (out_valid[4] && out_ready[4] && out_data[4*W +: W] == watched));
        end
        for (i = 0; i < 5; i = i + 1)
            waited[i] <= (!rst && in_valid[i] && !in_ready[i]) ? waited[i] + 1 : 0;
    end

    always @(*) begin
        if (rst) assume(in_valid == 0);
        assume(watched_port < 5);
        for (i = 0; i < 5; i = i + 1) begin
            if (in_valid[i] && in_data[i*W +: W] == watched)
                assume(i == watched_port && in_count == 0);
            // Sources follow the stream rules and only send flits XY routing can bring here.
            if (in_held[i]) assume(in_valid[i] && in_data[i*W +: W] == in_last[i*W +: W]);
            if (in_valid[i]) assume(legal_in(i, in_data[i*W +: W]));
`ifdef PROGRESS
            if (out_idle_run[i]) assume(out_ready[i]);
`endif
        end
        if (!rst) begin
            for (i = 0; i < 5; i = i + 1) begin
                if (out_held[i])
                    assert(out_valid[i] && out_data[i*W +: W] == out_last[i*W +: W]);
                if (out_valid[i]) assert(route(out_data[i*W +: W]) == i);
`ifdef PROGRESS
                assert(waited[i] < WAIT);
`endif
            end
`ifndef PROGRESS
            assert(out_count <= in_count);
            if (idle) assert(out_count == in_count);
`endif
        end
    end
endmodule
