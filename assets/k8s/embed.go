// Package k8s embeds the Kubernetes manifest templates of the k8s runner:
// one file per object kind, rendered with text/template once per node.
package k8s

import "embed"

// Templates holds the *.yaml templates. Each renders one object; the data is
// the runner's per-node template data (see runners/k8s).
//
//go:embed *.yaml
var Templates embed.FS
