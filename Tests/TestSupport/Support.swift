import OpsKit
