import Dispatch
import Foundation
import NIOConcurrencyHelpers

/// A signal the operator sent while an operation runs, and what to do about it: the operation
/// registers how to stop at a safe point (remove a partial backup, let pg_restore roll back).
public final class Interruption: Sendable {
    private struct State {
        var signal: Int32?
        var handlers: [@Sendable (Int32) -> Void] = []
    }
    private let state = NIOLockedValueBox(State())

    public init() {}

    /// The first signal received, if any.
    public var signal: Int32? { state.withLockedValue { $0.signal } }

    /// Calls `handler` on every signal from now on (at once if one came already).
    public func onInterrupt(_ handler: @escaping @Sendable (Int32) -> Void) {
        let already = state.withLockedValue { state -> Int32? in
            state.handlers.append(handler)
            return state.signal
        }
        if let already { handler(already) }
    }

    public func interrupt(_ number: Int32) {
        let handlers = state.withLockedValue { state -> [@Sendable (Int32) -> Void] in
            state.signal = state.signal ?? number
            return state.handlers
        }
        for handler in handlers { handler(number) }
    }
}

/// SIGINT, SIGTERM and SIGHUP turned into a callback while work runs, instead of killing the
/// process mid-write. The one signal wrapper of whisperctl. Traps nest: each signal is ignored
/// (so that only the callbacks see it) while any trap for it is installed, and gets back the
/// disposition it had when the last one is removed.
/// Unchecked: the sources are set once in `init`, and cancelling a dispatch source is
/// thread-safe; `removed` is behind its own lock.
public final class SignalTrap: @unchecked Sendable {
    public static let stopping: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    /// Per signal: how many traps are installed, and the disposition before the first.
    private static let installed = NIOLockedValueBox<[Int32: (count: Int, previous: __sighandler_t?)]>([:])

    private let sources: [DispatchSourceSignal]
    private let numbers: [Int32]
    private let removed = NIOLockedValueBox(false)

    public init(_ numbers: [Int32] = SignalTrap.stopping, _ handler: @escaping @Sendable (Int32) -> Void) {
        self.numbers = numbers
        Self.installed.withLockedValue { installed in
            for number in numbers {
                if let entry = installed[number] {
                    installed[number] = (entry.count + 1, entry.previous)
                } else {
                    installed[number] = (1, signal(number, SIG_IGN))
                }
            }
        }
        sources = numbers.map { number in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { handler(number) }
            source.resume()
            return source
        }
    }

    public func remove() {
        guard removed.withLockedValue({ removed in defer { removed = true }; return !removed }) else { return }
        for source in sources { source.cancel() }
        Self.installed.withLockedValue { installed in
            for number in numbers {
                guard let entry = installed[number] else { continue }
                if entry.count > 1 {
                    installed[number] = (entry.count - 1, entry.previous)
                } else {
                    signal(number, entry.previous)
                    installed[number] = nil
                }
            }
        }
    }

    deinit { remove() }
}
