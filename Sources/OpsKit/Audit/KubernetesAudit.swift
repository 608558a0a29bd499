import Foundation

/// The Kubernetes manifests' hardening, read from every YAML file below a directory: each
/// workload's containers non-root, read-only, limited, unprivileged and without the engine's
/// socket, and a NetworkPolicy selecting its pods.
struct KubernetesAudit {
    var directory: String

    struct Workload {
        var file: String
        var kind: String
        var name: String
        var podSpec: [String: Any]
        var labels: [String: String]
    }

    static let workloadKinds = ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod", "ReplicaSet"]

    func findings() -> [Finding] {
        let files = Self.yamlFiles(below: directory)
        let manifests = files.map { file in (file, try? String(contentsOfFile: file, encoding: .utf8)) }
        return Self.findings(manifests: manifests, component: "k8s \((directory as NSString).lastPathComponent)", below: directory)
    }

    /// - Parameter manifests: each file and its text (nil when it could not be read).
    static func findings(manifests: [(String, String?)], component: String, below directory: String) -> [Finding] {
        var workloads: [Workload] = []
        var policies: [[String: String]] = []
        var unreadable: [String] = []
        for (file, text) in manifests {
            guard let text, let documents = try? YAMLTree.documents(text) else {
                unreadable.append(file)
                continue
            }
            for document in documents {
                guard let kind = YAMLTree.string(YAMLTree.path(document, "kind")) else { continue }
                let name = YAMLTree.string(YAMLTree.path(document, "metadata", "name")) ?? "?"
                if kind == "NetworkPolicy" {
                    let selector = YAMLTree.mapping(YAMLTree.path(document, "spec", "podSelector", "matchLabels")) ?? [:]
                    policies.append(selector.compactMapValues(YAMLTree.string))
                }
                guard Self.workloadKinds.contains(kind), let spec = Self.podSpec(document, kind: kind) else { continue }
                let template: Any? = switch kind {
                case "Pod": document
                case "CronJob": YAMLTree.path(document, "spec", "jobTemplate", "spec", "template")
                default: YAMLTree.path(document, "spec", "template")
                }
                let labels = (YAMLTree.mapping(YAMLTree.path(template, "metadata", "labels")) ?? [:]).compactMapValues(YAMLTree.string)
                workloads.append(Workload(file: file, kind: kind, name: name, podSpec: spec, labels: labels))
            }
        }
        var findings: [Finding] = []
        if !unreadable.isEmpty {
            findings.append(Finding(component, "manifests", .unknown, "manifests that are not readable YAML", observed: unreadable.joined(separator: ", ")))
        }
        guard !workloads.isEmpty else {
            findings.append(Finding(component, "workloads", .unknown, "no workload found to audit",
                observed: "\(manifests.count) YAML files below \(directory), no Deployment, StatefulSet, DaemonSet, Job, CronJob or Pod"))
            return findings
        }
        func judged(_ check: String, _ severity: Finding.Severity, _ problem: String, fine: String, fix: String, _ offending: (Workload) -> [String]) -> Finding {
            let found = workloads.flatMap { workload in offending(workload).map { "\(workload.kind)/\(workload.name) \($0) (\((workload.file as NSString).lastPathComponent))" } }
            guard !found.isEmpty else { return Finding(component, check, .ok, fine, observed: "\(workloads.count) workloads", source: AuditSource.kubernetes) }
            return Finding(component, check, severity, problem, observed: found.joined(separator: "; "), source: AuditSource.kubernetes, fix: fix)
        }
        findings.append(judged("non-root", .warning, "containers may run as root", fine: "every container runs as non-root",
            fix: "securityContext: {runAsNonRoot: true, runAsUser: 10001} on the pod") { workload in
            let pod = YAMLTree.mapping(workload.podSpec["securityContext"]) ?? [:]
            return Self.containers(workload.podSpec).compactMap { name, container in
                let own = YAMLTree.mapping(container["securityContext"]) ?? [:]
                if let user = YAMLTree.string(own["runAsUser"] ?? pod["runAsUser"]) { return user == "0" ? "\(name) runAsUser 0" : nil }
                return YAMLTree.isTrue(own["runAsNonRoot"] ?? pod["runAsNonRoot"]) ? nil : "\(name) has no runAsNonRoot"
            }
        })
        findings.append(judged("read-only", .warning, "containers have a writable root filesystem", fine: "every container's root filesystem is read-only",
            fix: "securityContext: {readOnlyRootFilesystem: true} on each container, an emptyDir for what it writes") { workload in
            Self.containers(workload.podSpec).compactMap { name, container in
                YAMLTree.isTrue(YAMLTree.path(container, "securityContext", "readOnlyRootFilesystem")) ? nil : "\(name) has no readOnlyRootFilesystem"
            }
        })
        findings.append(judged("limits", .warning, "containers have no resource limits", fine: "every container has CPU and memory limits",
            fix: "resources: {limits: {cpu: \"2\", memory: 2Gi}} on each container") { workload in
            Self.containers(workload.podSpec).compactMap { name, container in
                let limits = YAMLTree.mapping(YAMLTree.path(container, "resources", "limits")) ?? [:]
                let missing = ["cpu", "memory"].filter { limits[$0] == nil }
                return missing.isEmpty ? nil : "\(name) has no \(missing.joined(separator: " or ")) limit"
            }
        })
        findings.append(judged("privileged", .critical, "containers are privileged or may gain privileges", fine: "no container is privileged",
            fix: "securityContext: {privileged: false, allowPrivilegeEscalation: false}") { workload in
            Self.containers(workload.podSpec).compactMap { name, container in
                let context = YAMLTree.mapping(container["securityContext"]) ?? [:]
                if YAMLTree.isTrue(context["privileged"]) { return "\(name) privileged" }
                return nil
            }
        })
        findings.append(judged("docker-socket", .critical, "a pod mounts the node's container engine socket", fine: "no pod mounts the container engine's socket",
            fix: "remove that hostPath volume; nothing in this stack needs it") { workload in
            YAMLTree.list(workload.podSpec["volumes"]).compactMap { volume in
                guard let path = YAMLTree.string(YAMLTree.path(volume, "hostPath", "path")),
                    ComposeAudit.socketNames.contains(where: { path.hasSuffix($0) }) else { return nil }
                return "hostPath \(path)"
            }
        })
        findings.append(judged("network-policy", .warning, "pods no NetworkPolicy selects", fine: "a NetworkPolicy selects every workload's pods",
            fix: "a NetworkPolicy whose podSelector matches the pods (docker/k8s/base/networkpolicy.yaml)") { workload in
            // CronJobs and Jobs reach only what they need; the policy matters for pods that serve.
            guard ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Pod"].contains(workload.kind) else { return [] }
            let selected = policies.contains { selector in selector.allSatisfy { workload.labels[$0.key] == $0.value } }
            return selected ? [] : ["is selected by no NetworkPolicy"]
        })
        return findings
    }

    static func podSpec(_ document: Any, kind: String) -> [String: Any]? {
        switch kind {
        case "Pod": YAMLTree.mapping(YAMLTree.path(document, "spec"))
        case "CronJob": YAMLTree.mapping(YAMLTree.path(document, "spec", "jobTemplate", "spec", "template", "spec"))
        default: YAMLTree.mapping(YAMLTree.path(document, "spec", "template", "spec"))
        }
    }

    /// Init containers count: they run in the same pod with the same node access.
    static func containers(_ spec: [String: Any]) -> [(String, [String: Any])] {
        (YAMLTree.list(spec["initContainers"]) + YAMLTree.list(spec["containers"])).compactMap { item in
            YAMLTree.mapping(item).map { (YAMLTree.string($0["name"]) ?? "?", $0) }
        }
    }

    static func yamlFiles(below directory: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return [] }
        var files: [String] = []
        while let relative = walker.nextObject() as? String {
            if relative.hasSuffix(".yaml") || relative.hasSuffix(".yml") { files.append(directory + "/" + relative) }
        }
        return files.sorted()
    }
}
