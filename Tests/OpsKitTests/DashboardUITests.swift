import OpsKit
import Testing

/// The dashboard's keys as a state machine: what each does, what needs a y, what read-only refuses.
@Suite struct DashboardUITests {
    let names = ["ws1", "ws2", "ws3"]

    @Test func drainNeedsAYesAndNamesTheSelectedInstance() {
        var ui = DashboardUI()
        #expect(ui.handle(.down, instances: names) == nil)
        #expect(ui.handle(.character("d"), instances: names) == nil)
        #expect(ui.confirming == DashboardUI.Confirmation(kind: .drain, instance: "ws2"))
        #expect(ui.message?.contains("[y/N]") == true)
        #expect(ui.handle(.character("y"), instances: names) == .drain("ws2"))
        #expect(ui.confirming == nil)
        // Anything but y cancels, Enter included.
        _ = ui.handle(.character("r"), instances: names)
        #expect(ui.handle(.enter, instances: names) == nil)
        #expect(ui.message == "ready ws2: cancelled")
        #expect(ui.screen == .main, "the Enter that cancelled did not open the detail")
    }

    @Test func readOnlyAndMissingRuntimeAPIRefuseActions() {
        var readOnly = DashboardUI(readOnly: true)
        #expect(readOnly.handle(.character("d"), instances: names) == nil)
        #expect(readOnly.confirming == nil)
        #expect(readOnly.message?.contains("read-only") == true)
        #expect(readOnly.handle(.character("y"), instances: names) == nil)
        var noAPI = DashboardUI(actionsUnavailable: "no haproxy.runtime_api in the inventory")
        #expect(noAPI.handle(.character("r"), instances: names) == nil)
        #expect(noAPI.message == "cannot ready: no haproxy.runtime_api in the inventory")
    }

    @Test func detailFilterAndBack() {
        var ui = DashboardUI()
        _ = ui.handle(.end, instances: names)
        _ = ui.handle(.enter, instances: names)
        #expect(ui.screen == .detail("ws3"))
        _ = ui.handle(.character("/"), instances: names)
        for character in "lat" { _ = ui.handle(.character(character), instances: names) }
        _ = ui.handle(.backspace, instances: names)
        #expect(ui.filter == "la")
        #expect(ui.handle(.character("q"), instances: names) == nil, "q is text while filtering")
        #expect(ui.filter == "laq")
        _ = ui.handle(.enter, instances: names)
        #expect(!ui.editingFilter)
        // d in the detail view drains the instance shown.
        _ = ui.handle(.character("d"), instances: names)
        #expect(ui.handle(.character("y"), instances: names) == .drain("ws3"))
        _ = ui.handle(.escape, instances: names)
        #expect(ui.screen == .main)
        #expect(ui.handle(.character("q"), instances: names) == .quit)
    }

    @Test func intervalStepsAndPause() {
        var ui = DashboardUI(interval: .seconds(1))
        #expect(ui.handle(.character("+"), instances: names) == .setInterval(.seconds(2)))
        #expect(ui.handle(.character("-"), instances: names) == .setInterval(.seconds(1)))
        #expect(ui.handle(.character("-"), instances: names) == .setInterval(.milliseconds(500)))
        #expect(ui.handle(.character("-"), instances: names) == .setInterval(.milliseconds(250)))
        #expect(ui.handle(.character("-"), instances: names) == nil, "the shortest interval")
        #expect(ui.handle(.character("p"), instances: names) == .setPaused(true))
        #expect(ui.handle(.character("p"), instances: names) == .setPaused(false))
    }

    @Test func tabCyclesPanelsAndArrowsScrollTheFocusedOne() {
        var ui = DashboardUI()
        _ = ui.handle(.tab, instances: names)
        #expect(ui.focus == .services)
        _ = ui.handle(.tab, instances: names)
        #expect(ui.focus == .alerts)
        _ = ui.handle(.down, instances: names)
        #expect(ui.alertsOffset == 1)
        #expect(ui.selected == 0)
        _ = ui.handle(.tab, instances: names)
        #expect(ui.focus == .instances)
        _ = ui.handle(.pageDown, instances: names)
        #expect(ui.selected == 2, "clamped to the last instance")
    }
}

/// The screen as text: what fits at each size.
@Suite struct DashboardLayoutTests {
    func snapshot(instances: Int = 3) -> (DashboardSnapshot, DashboardModel) {
        var model = DashboardModel(targets: DashboardModelTests.targets((1...instances).map { "ws\($0)" }))
        for index in 1...instances {
            model.apply(DashboardModelTests.server("ws\(index)", at: 0, .init(connections: 100 * index)))
        }
        return (model.snapshot(at: 0), model)
    }

    @Test func fullScreenShowsEveryPanel() {
        let (snapshot, _) = snapshot()
        let lines = DashboardLayout(width: 100, height: 30).render(snapshot, ui: DashboardUI(), families: { _ in [] }).map(\.text)
        #expect(lines.count == 30)
        #expect(lines.allSatisfy { $0.count <= 100 })
        let text = lines.joined(separator: "\n")
        for expected in ["FLEET", "conns 600", "INSTANCES (3)", "> ws1", "ws3", "SERVICES", "ALERTS (0)", "q quit"] {
            #expect(text.contains(expected), "missing \(expected)")
        }
    }

    @Test func manyInstancesScrollAroundTheSelection() {
        let (snapshot, _) = snapshot(instances: 40)
        var ui = DashboardUI()
        for _ in 0..<30 { _ = ui.handle(.down, instances: snapshot.instances.map(\.name)) }
        let text = DashboardLayout(width: 80, height: 24).render(snapshot, ui: ui, families: { _ in [] }).map(\.text).joined(separator: "\n")
        #expect(text.contains("> ws31"))
        #expect(text.contains("more"))
    }

    @Test func smallTerminalsDegrade() {
        let (snapshot, _) = snapshot()
        let compact = DashboardLayout(width: 60, height: 15).render(snapshot, ui: DashboardUI(), families: { _ in [] }).map(\.text)
        #expect(compact.count == 15)
        #expect(compact.joined().contains("80x24 shows every panel"))
        #expect(compact.joined().contains(">ws1"))
        let tiny = DashboardLayout(width: 15, height: 4).render(snapshot, ui: DashboardUI(), families: { _ in [] }).map(\.text)
        #expect(tiny.count == 1)
        #expect(tiny[0].count <= 15)
    }

    @Test func theDetailViewListsAndFiltersSeries() {
        let (snapshot, model) = snapshot()
        var ui = DashboardUI()
        _ = ui.handle(.enter, instances: ["ws1", "ws2", "ws3"])
        _ = ui.handle(.character("/"), instances: [])
        for character in "queue" { _ = ui.handle(.character(character), instances: []) }
        let lines = DashboardLayout(width: 100, height: 30).render(snapshot, ui: ui, families: model.families(of:)).map(\.text)
        #expect(lines[0].contains("ws1"))
        #expect(lines[0].contains("1/"))
        #expect(lines.contains { $0.hasPrefix("whisper_match_queue_size") })
        #expect(!lines.contains { $0.hasPrefix("whisper_connections_total") })
    }

    @Test func sparklinesScaleAndShowGaps() {
        #expect(DisplayFormat.sparkline([0, 1, 2, 3, 4, 5, 6, 7], width: 8, unicode: true) == "▁▂▃▄▅▆▇█")
        #expect(DisplayFormat.sparkline([1, .nan, 1], width: 3, unicode: false) == "# #")
        #expect(DisplayFormat.sparkline([5, 5], width: 1, unicode: true) == "█")
        #expect(DisplayFormat.latency(0.000_25) == "250µs")
        #expect(DisplayFormat.latency(nil) == "-")
        #expect(DisplayFormat.count(1_234_567) == "1,234,567")
        #expect(DisplayFormat.age(3_725) == "1h02m")
    }
}
