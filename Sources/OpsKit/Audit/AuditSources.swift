/// Where each audit check comes from.
enum AuditSource {
    static let secrets = "operations guide §8 Security Checklist: Secrets"
    static let tls = "operations guide §8 Security Checklist: SSL/TLS"
    static let network = "operations guide §8 Security Checklist: Network"
    static let application = "operations guide §8 Security Checklist: Application"
    static let containers = "operations guide §8 Security Checklist: Container Security"
    static let kubernetes = "devops reference: Production Checklist, Security"
    static let headers = "websocket deployment reference §9.6 Security Headers"
}
