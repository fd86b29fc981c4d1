package node

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// tracerName names the node's instrumentation scope in exported traces.
const tracerName = "github.com/nomosrun/nomosrun/simnode"

// Attribute keys of the node's spans.
const (
	keyBlock  = attribute.Key("block.id")
	keySlot   = attribute.Key("block.slot")
	keyHeight = attribute.Key("block.height")
	keyTxs    = attribute.Key("block.txs")
	keyPeer   = attribute.Key("peer")
	keyResult = attribute.Key("result")
)

// noopTracer is the node's tracer until SetTracerProvider: spans cost
// nothing and go nowhere.
var noopTracer = noop.NewTracerProvider().Tracer(tracerName)

// SetTracerProvider makes the node trace block production and import
// ("block produce", "block import" spans) with tp. Call it before Run.
func (n *Node) SetTracerProvider(tp trace.TracerProvider) { n.tracer = tp.Tracer(tracerName) }
