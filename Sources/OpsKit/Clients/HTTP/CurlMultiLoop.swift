import CCurl
import Foundation
import NIOConcurrencyHelpers

/// Runs every HTTP transfer of the process on one thread with libcurl's multi interface,
/// so a hundred concurrent probes cost one thread and each keeps its own timeout.
///
/// Other threads only append to `pending` or `cancelled` under `lock` and call
/// `curl_multi_wakeup`, which libcurl documents as thread-safe; the multi handle itself is used
/// by the loop thread alone. Hence `@unchecked Sendable`.
final class CurlMultiLoop: @unchecked Sendable {
    static let shared = CurlMultiLoop()

    private let multi: UnsafeMutableRawPointer
    private let lock = NIOLock()
    private var pending: [CurlTransfer] = []
    private var cancelled: [CurlTransfer] = []
    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]

    private init() {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
        multi = curl_multi_init()
        let thread = Thread { [self] in runLoop() }
        thread.name = "whisper-curl"
        thread.start()
    }

    func submit(_ transfer: CurlTransfer) {
        lock.withLock { pending.append(transfer) }
        curl_multi_wakeup(multi)
    }

    func cancel(_ transfer: CurlTransfer) {
        lock.withLock { cancelled.append(transfer) }
        curl_multi_wakeup(multi)
    }

    private func runLoop() {
        while true {
            let (added, dropped) = lock.withLock {
                defer {
                    pending.removeAll()
                    cancelled.removeAll()
                }
                return (pending, cancelled)
            }
            for transfer in added {
                active[transfer.easy] = transfer
                curl_multi_add_handle(multi, transfer.easy)
            }
            for transfer in dropped where active.removeValue(forKey: transfer.easy) != nil {
                curl_multi_remove_handle(multi, transfer.easy)
                transfer.resume(with: .failure(CancellationError()))
            }
            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            var queued: Int32 = 0
            while let message = curl_multi_info_read(multi, &queued) {
                guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
                let code = wc_msg_result(message)
                curl_multi_remove_handle(multi, easy)
                active.removeValue(forKey: easy)?.finish(code)
            }
            // Sleeps until a socket is ready, libcurl's next timeout, or a wakeup from submit/cancel.
            curl_multi_poll(multi, nil, 0, 1000, nil)
        }
    }
}
