import CCurl
import Foundation

/// One libcurl easy handle with the buffers it writes into and the continuation waiting for it.
///
/// The caller's thread configures it; after `CurlMultiLoop.submit` only the loop's thread touches
/// it, until it resumes the continuation exactly once. That hand-over is why it is
/// `@unchecked Sendable`.
final class CurlTransfer: @unchecked Sendable {
    let easy: UnsafeMutableRawPointer
    let request: HTTPRequest
    private(set) var body: [UInt8] = []
    private(set) var headers: [String: String] = [:]
    private(set) var bodyTooLarge = false
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
    private var continuation: CheckedContinuation<HTTPResponse, Error>?
    private let started = ContinuousClock.now

    init(request: HTTPRequest) throws {
        guard let easy = curl_easy_init() else {
            throw OpsError(.io, "libcurl could not create a handle", endpoint: request.url)
        }
        self.easy = easy
        self.request = request
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        try configure()
    }

    deinit {
        curl_easy_cleanup(easy)
        curl_slist_free_all(headerList)
        errorBuffer.deallocate()
    }

    private func configure() throws {
        let me = Unmanaged.passUnretained(self).toOpaque()
        var status = CURLE_OK
        func set(_ code: CURLcode) { if status == CURLE_OK { status = code } }
        set(wc_setopt_string(easy, CURLOPT_URL, request.url))
        set(wc_setopt_long(easy, CURLOPT_NOSIGNAL, 1))
        set(wc_setopt_long(easy, CURLOPT_TIMEOUT_MS, max(Int(request.timeout.milliseconds), 1)))
        set(wc_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, max(Int(request.timeout.milliseconds), 1)))
        set(wc_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer))
        set(wc_setopt_string(easy, CURLOPT_USERAGENT, "whisperctl"))
        set(wc_setopt_callback(easy, CURLOPT_WRITEFUNCTION, curlWriteBody))
        set(wc_setopt_pointer(easy, CURLOPT_WRITEDATA, me))
        set(wc_setopt_callback(easy, CURLOPT_HEADERFUNCTION, curlWriteHeader))
        set(wc_setopt_pointer(easy, CURLOPT_HEADERDATA, me))
        set(wc_setopt_pointer(easy, CURLOPT_PRIVATE, me))
        if request.insecureTLS {
            set(wc_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 0))
            set(wc_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 0))
        }
        if let socket = request.unixSocketPath {
            set(wc_setopt_string(easy, CURLOPT_UNIX_SOCKET_PATH, socket))
        }
        let method = request.method.uppercased()
        if method == "HEAD" {
            set(wc_setopt_long(easy, CURLOPT_NOBODY, 1))
        } else if method != "GET" {
            set(wc_setopt_string(easy, CURLOPT_CUSTOMREQUEST, method))
        }
        if let payload = request.body {
            set(wc_setopt_offset(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(payload.count)))
            // COPYPOSTFIELDS copies the bytes, so the request owns nothing libcurl reads later.
            if payload.isEmpty {
                set(wc_setopt_string(easy, CURLOPT_COPYPOSTFIELDS, ""))
            } else {
                payload.withUnsafeBufferPointer { buffer in
                    buffer.withMemoryRebound(to: CChar.self) { chars in
                        set(wc_setopt_string(easy, CURLOPT_COPYPOSTFIELDS, chars.baseAddress))
                    }
                }
            }
        }
        for header in request.headers {
            headerList = curl_slist_append(headerList, "\(header.name): \(header.value)")
        }
        if let headerList { set(wc_setopt_slist(easy, CURLOPT_HTTPHEADER, headerList)) }
        guard status == CURLE_OK else {
            throw OpsError(.invalidInput, "invalid request: \(String(cString: curl_easy_strerror(status)))", endpoint: request.url)
        }
    }

    func attach(_ continuation: CheckedContinuation<HTTPResponse, Error>) {
        self.continuation = continuation
    }

    /// Resumes the waiting caller with the outcome of `code`; called once, on the loop's thread.
    func finish(_ code: CURLcode) {
        let outcome: Result<HTTPResponse, Error>
        if code == CURLE_OK {
            var status = 0
            _ = wc_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
            outcome = .success(
                HTTPResponse(status: status, headers: headers, body: body, elapsed: ContinuousClock.now - started))
        } else {
            outcome = .failure(error(for: code))
        }
        resume(with: outcome)
    }

    func resume(with outcome: Result<HTTPResponse, Error>) {
        continuation?.resume(with: outcome)
        continuation = nil
    }

    private func error(for code: CURLcode) -> OpsError {
        let endpoint = request.unixSocketPath.map { "\(request.url) via \($0)" } ?? request.url
        let detail = String(cString: errorBuffer)
        let reason = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        switch code {
        case CURLE_COULDNT_CONNECT:
            var osErrno = 0
            _ = wc_getinfo_long(easy, CURLINFO_OS_ERRNO, &osErrno)
            if osErrno == Int(ECONNREFUSED) || reason.lowercased().contains("refused") {
                return OpsError(.connectionRefused, "connection refused", endpoint: endpoint)
            }
            if osErrno == Int(ENOENT) { return OpsError(.unreachable, "no such socket", endpoint: endpoint) }
            return OpsError(.unreachable, "cannot connect (\(reason))", endpoint: endpoint)
        case CURLE_OPERATION_TIMEDOUT:
            return .timedOut(after: request.timeout, endpoint: endpoint)
        case CURLE_COULDNT_RESOLVE_HOST:
            return OpsError(.unreachable, "cannot resolve host", endpoint: endpoint)
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CACERT_BADFILE:
            return OpsError(.tls, "TLS failed: \(reason) (self-signed? set insecure)", endpoint: endpoint)
        case CURLE_WRITE_ERROR where bodyTooLarge:
            return OpsError(.protocolError, "response larger than \(request.maxResponseBytes) bytes", endpoint: endpoint)
        case CURLE_GOT_NOTHING:
            return OpsError(.io, "server closed the connection without a response", endpoint: endpoint)
        case CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT:
            return OpsError(.invalidInput, "invalid URL (\(reason))", endpoint: endpoint)
        default:
            return OpsError(.io, reason, endpoint: endpoint)
        }
    }

    fileprivate func appendBody(_ data: UnsafeRawBufferPointer) -> Bool {
        guard body.count + data.count <= request.maxResponseBytes else {
            bodyTooLarge = true
            return false
        }
        body.append(contentsOf: data)
        return true
    }

    fileprivate func appendHeader(_ line: String) {
        if line.hasPrefix("HTTP/") {
            // A new status line (redirect, 100 Continue) starts a new header block.
            headers = [:]
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
        headers[name] = value
    }
}

private let curlWriteBody: wc_data_callback = { data, size, count, user in
    guard let user else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(user).takeUnretainedValue()
    let length = size * count
    return transfer.appendBody(UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
}

private let curlWriteHeader: wc_data_callback = { data, size, count, user in
    guard let user else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(user).takeUnretainedValue()
    let length = size * count
    let line = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
    transfer.appendHeader(line)
    return length
}
