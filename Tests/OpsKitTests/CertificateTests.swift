import Foundation
import OpsKit
import TestSupport
import Testing

@Suite struct CertificateTests {
    @Test func readsExpiryFromARealCertificate() throws {
        let (pem, key) = try CertificateFactory.selfSigned(commonName: "chat.example.com", expiresIn: 45 * 86_400 + 3600)
        let chain = try CertificateReader.parse(pem: key + pem, source: "combined.pem")
        #expect(chain.count == 1)
        #expect(chain[0].subject == "CN=chat.example.com")
        #expect(chain[0].daysUntilExpiry() == 45)
        #expect(chain[0].origin == "combined.pem:6" || chain[0].origin.hasPrefix("combined.pem:"))
    }

    @Test func judgesExpiredSoonAndHealthyCertificates() throws {
        let now = Date()
        func verdict(_ days: Double) throws -> ComponentReport {
            let (pem, _) = try CertificateFactory.selfSigned(commonName: "x", expiresIn: days * 86_400)
            return CertificateProbe(path: "x.pem").evaluate(try CertificateReader.parse(pem: pem, source: "x.pem")[0], now: now)
        }
        // Half days, so the seconds a busy machine spends making the keys after `now` do not
        // move a verdict across a day boundary.
        #expect(try verdict(-3.5).status == .critical)
        #expect(try verdict(-3.5).detail.hasPrefix("expired 3 days ago"))
        #expect(try verdict(3.5).status == .critical)
        #expect(try verdict(20.5).status == .warning)
        #expect(try verdict(20.5).detail.hasPrefix("expires in 20 days"))
        #expect(try verdict(200).status == .ok)
    }

    @Test func malformedPEMNamesTheFileAndLine() throws {
        let text = "# comment\n-----BEGIN CERTIFICATE-----\nnot base64 at all!!\n-----END CERTIFICATE-----\n"
        do {
            _ = try CertificateReader.parse(pem: text, source: "bad.pem")
            Issue.record("garbage must not parse")
        } catch let error as OpsError {
            #expect(error.description.hasPrefix("bad.pem:2: malformed certificate"))
        }
        #expect(throws: OpsError.self) { try CertificateReader.parse(pem: "hello", source: "empty.pem") }
        #expect(throws: OpsError.self) { try CertificateReader.read(path: "/nonexistent/cert.pem") }
    }
}
