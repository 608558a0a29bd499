/// One service's `logs:` setting, as written, with where it was written.
public struct ServiceLog: Sendable {
    /// A server's name, or haproxy, redis, nats, postgres.
    public let service: String
    public let text: String
    public let origin: ValueSource?
    /// Relative file paths are read from here (the inventory's directory).
    var baseDirectory = "/"

    init(service: String, text: String, origin: ValueSource?) {
        self.service = service
        self.text = text
        self.origin = origin
    }

    public func source() throws(LogSourceError) -> LogSource {
        let source = try LogSource(parsing: text)
        if case .file(let path) = source, !path.hasPrefix("/") {
            return .file(baseDirectory == "/" ? "/" + path : baseDirectory + "/" + path)
        }
        return source
    }
}
