/// WebSocket close codes (RFC 6455 section 7.4.1, and IANA's registry for 1012).
package enum CloseCode {
    package static let normal: UInt16 = 1000
    package static let goingAway: UInt16 = 1001
    package static let protocolError: UInt16 = 1002
    /// A frame type we do not accept: the server takes text only.
    package static let unsupportedData: UInt16 = 1003
    package static let invalidPayload: UInt16 = 1007
    package static let policyViolation: UInt16 = 1008
    package static let tooBig: UInt16 = 1009
    package static let internalError: UInt16 = 1011
    /// "Service restart": the server is draining; reconnect, to another instance.
    package static let serviceRestart: UInt16 = 1012
}
