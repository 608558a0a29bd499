import CNcurses
import Foundation
import NIOConcurrencyHelpers
import OpsKit

/// Runs the dashboard on the terminal. One thread owns ncurses: it waits in poll(2) on the
/// keyboard and a wake-up pipe (new scrapes, action results, signals), ticks the sparklines each
/// interval and redraws at most four times a second. Scrapes and actions run as tasks and never
/// hold the screen. Quit, Ctrl-C, SIGTERM, SIGHUP, the end of `duration` and errors all leave
/// through `endwin`, so the terminal comes back as it was.
final class DashboardTUI: Sendable {
    enum Ending: Sendable {
        case quit
        case signal(Int32)
        case timeUp
    }

    let scraper: DeploymentScraper
    let model: NIOLockedValueBox<DashboardModel>
    let actions: DashboardActions?
    let initialUI: DashboardUI
    let duration: Duration?
    let banner: (@Sendable () -> String)?
    private let wake: WakePipe
    private let pending = NIOLockedValueBox<(messages: [String], signal: Int32?)>(([], nil))
    /// Where the UI thread hands actions to the task that performs them.
    private let requested = NIOLockedValueBox<AsyncStream<DashboardAction>.Continuation?>(nil)

    init(
        scraper: DeploymentScraper, window: Double, ui: DashboardUI, actions: DashboardActions?, duration: Duration? = nil,
        banner: (@Sendable () -> String)? = nil
    ) throws {
        self.scraper = scraper
        self.model = NIOLockedValueBox(DashboardModel(targets: scraper.targets, window: window))
        self.actions = actions
        self.initialUI = ui
        self.duration = duration
        self.banner = banner
        self.wake = try WakePipe()
    }

    /// Whether a full-screen UI can run here: a terminal on both ends.
    static var terminalAvailable: Bool { isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1 }

    func run() async throws -> Ending {
        let pending = self.pending
        let wake = self.wake
        let trap = SignalTrap { number in
            pending.withLockedValue { $0.signal = number }
            wake.signal()
        }
        defer { trap.remove() }
        let model = self.model
        let scraper = self.scraper
        let (requests, submit) = AsyncStream.makeStream(of: DashboardAction.self)
        requested.withLockedValue { $0 = submit }
        return try await withThrowingTaskGroup(of: Void.self) { background in
            background.addTask {
                await scraper.run { event in
                    model.withLockedValue { $0.apply(event) }
                    if case .started = event.payload { return }
                    wake.signal()
                }
            }
            // Actions run one after another; the ones asked for before quitting are finished
            // (and audited) before the dashboard returns.
            let actions = self.actions
            let ending: Result<Ending, Error> = await withTaskGroup(of: Void.self) { performing in
                performing.addTask {
                    for await action in requests {
                        guard let actions else { continue }
                        let line = await actions.perform(action)
                        pending.withLockedValue { $0.messages.append(line) }
                        wake.signal()
                    }
                }
                let ending = await Result(catching: { try await self.runLoopOnItsThread() })
                submit.finish()
                await performing.waitForAll()
                return ending
            }
            background.cancelAll()
            return try ending.get()
        }
    }

    /// The curses loop blocks in poll(2): it runs on a thread of its own, not the cooperative pool.
    private func runLoopOnItsThread() async throws -> Ending {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { [self] in
                do {
                    continuation.resume(returning: try self.loop())
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.name = "whisperctl-tui"
            thread.start()
        }
    }

    /// The UI thread's loop.
    private func loop() throws -> Ending {
        guard let screen = CursesScreen.open() else {
            throw DashboardError("cannot open the terminal (TERM=\(ProcessInfo.processInfo.environment["TERM"] ?? "unset"))")
        }
        defer { screen.end() }
        var ui = initialUI
        let started = Date().timeIntervalSince1970
        let deadline = duration.map { started + $0.seconds }
        var nextTick = started
        var lastDraw = 0.0
        var dirty = true
        while true {
            let now = Date().timeIntervalSince1970
            if let number = pending.withLockedValue({ $0.signal }) { return .signal(number) }
            if let deadline, now >= deadline { return .timeUp }
            if !ui.paused, now >= nextTick {
                model.withLockedValue { $0.tick(at: now) }
                nextTick = now + ui.interval.seconds
                dirty = true
            }
            var pressed = false
            for input in screen.pendingInput() {
                pressed = true
                guard case .key(let key) = input else { continue }
                let names = scraper.targets.servers.map(\.name)
                switch ui.handle(key, instances: names) {
                case .quit?: return .quit
                case .setInterval(let interval)?:
                    scraper.interval = interval
                    nextTick = min(nextTick, now + interval.seconds)
                case .setPaused(let paused)?:
                    scraper.paused = paused
                    if !paused { nextTick = now }
                case let action? where action != .quit:
                    perform(action)
                default: break
                }
            }
            for message in pending.withLockedValue({ state -> [String] in
                defer { state.messages = [] }
                return state.messages
            }) {
                ui.message = message
                pressed = true
            }
            if pressed || (dirty && now - lastDraw >= 0.25) {
                ui.banner = banner?()
                let size = screen.size
                let layout = DashboardLayout(width: size.width, height: size.height, unicode: screen.unicode)
                let (snapshot, families) = model.withLockedValue { model -> (DashboardSnapshot, [MetricFamily]) in
                    var families: [MetricFamily] = []
                    if case .detail(let name) = ui.screen { families = model.families(of: name) }
                    return (model.snapshot(at: now), families)
                }
                screen.draw(layout.render(snapshot, ui: ui, families: { _ in families }))
                lastDraw = now
                dirty = false
            }
            // Sleep until a key, a wake-up, the next tick or the next allowed redraw.
            var until = ui.paused ? now + 1 : nextTick
            if dirty { until = min(until, lastDraw + 0.25) }
            if let deadline { until = min(until, deadline) }
            if wake.wait(forInputOn: STDIN_FILENO, seconds: max(0, until - Date().timeIntervalSince1970)) { dirty = true }
        }
    }

    private func perform(_ action: DashboardAction) {
        guard actions != nil else { return }
        _ = requested.withLockedValue { $0 }?.yield(action)
    }
}

struct DashboardError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A self-pipe: any thread can wake the UI thread out of poll(2).
final class WakePipe: Sendable {
    private let readEnd: Int32
    private let writeEnd: Int32

    init() throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw DashboardError("pipe: \(String(cString: strerror(errno)))") }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        readEnd = fds[0]
        writeEnd = fds[1]
    }

    deinit {
        close(readEnd)
        close(writeEnd)
    }

    /// Never blocks: a full pipe already means "wake up".
    func signal() {
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)
    }

    /// Waits for input on `descriptor` or a wake-up; true when woken (the pipe is emptied).
    func wait(forInputOn descriptor: Int32, seconds: Double) -> Bool {
        var fds = [pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0), pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)]
        _ = poll(&fds, 2, Int32(min(seconds, 60) * 1000))
        guard fds[1].revents != 0 else { return false }
        var buffer = [UInt8](repeating: 0, count: 256)
        while read(readEnd, &buffer, buffer.count) > 0 {}
        return true
    }
}
