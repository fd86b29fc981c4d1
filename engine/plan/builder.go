package plan

import (
	"fmt"
	"time"
)

// Defaults of the scenario language (design §4), used when a script leaves a
// value out or omits a builtin altogether.
const (
	DefaultValidators      = 1
	DefaultNetwork         = NetworkStar
	DefaultSlot            = 2 * time.Second
	DefaultActiveSlotCoeff = 0.9
	DefaultSecurityParam   = 10
	DefaultFunds           = 100
	DefaultRunDuration     = 60 * time.Second
	DefaultSeed            = 1
	// MinRunBlocks is the shortest run window, in blocks: shorter windows
	// are clamped with a warning.
	MinRunBlocks = 2
	// MaxFaults and MaxExpectations bound a plan, so a loop in a script
	// cannot make planning and validation quadratic in time.
	MaxFaults       = 500
	MaxExpectations = 500
)

// Builder accumulates what a scenario script declares, in script order, and
// turns it into a Plan. It never fails on a well-typed call: cross-checks
// (unknown nodes, missing executors, capabilities) belong to Validate, so a
// script reports all its problems at once.
type Builder struct {
	scenario string
	seed     int64
	params   map[string]string
	matrix   []MatrixAxis

	topology    *Topology
	wallets     *Wallets
	run         *Run
	workloads   []Workload
	faults      []Fault
	expects     []Expectation
	hooks       []Hook
	warnings    []Warning
	nw, nf, ne  int
	defaultsPos Pos
}

// NewBuilder starts an empty plan for the named scenario with the given seed.
func NewBuilder(scenario string, seed int64) *Builder {
	return &Builder{scenario: scenario, seed: seed, params: map[string]string{}, defaultsPos: Pos{File: scenario}}
}

// DefaultTopology is the topology of a script that never calls topology().
func DefaultTopology() Topology {
	return Topology{
		Validators:      DefaultValidators,
		Network:         DefaultNetwork,
		Slot:            Duration(DefaultSlot),
		ActiveSlotCoeff: DefaultActiveSlotCoeff,
		SecurityParam:   DefaultSecurityParam,
	}
}

// Topology returns the declared topology, or the default one, with its node
// list filled in. Builtins use it to hand node names back to the script.
func (b *Builder) Topology() Topology {
	t := DefaultTopology()
	if b.topology != nil {
		t = *b.topology
	}
	t.Nodes = NodesOf(t.Validators, t.Executors)
	return t
}

// NodesOf names the nodes of a topology: validators first, then executors,
// each counted from 0 within its role.
func NodesOf(validators, executors int) []Node {
	nodes := make([]Node, 0, validators+executors)
	for i := 0; i < validators; i++ {
		nodes = append(nodes, Node{Name: fmt.Sprintf("validator-%d", i), Role: RoleValidator, Index: i})
	}
	for i := 0; i < executors; i++ {
		nodes = append(nodes, Node{Name: fmt.Sprintf("executor-%d", i), Role: RoleExecutor, Index: i})
	}
	return nodes
}

// SetTopology records the cluster shape. A second call is an error that
// points at the first.
func (b *Builder) SetTopology(t Topology) error {
	if b.topology != nil {
		return fmt.Errorf("topology already declared at %s; declare it once", b.topology.Pos)
	}
	t.Nodes = nil
	b.topology = &t
	return nil
}

// SetWallets records the genesis wallets. A second call is an error.
func (b *Builder) SetWallets(w Wallets) error {
	if b.wallets != nil {
		return fmt.Errorf("wallets already declared at %s; declare them once", b.wallets.Pos)
	}
	b.wallets = &w
	return nil
}

// SetRun records the run window. A second call is an error.
func (b *Builder) SetRun(r Run) error {
	if b.run != nil {
		return fmt.Errorf("run already declared at %s; declare it once", b.run.Pos)
	}
	b.run = &r
	return nil
}

// SetParam records the resolved value of a scenario parameter.
func (b *Builder) SetParam(name, value string) { b.params[name] = value }

// Warn records a non-fatal remark at pos.
func (b *Builder) Warn(pos Pos, format string, args ...any) {
	b.warnings = append(b.warnings, Warning{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

// AddWorkload appends a workload, gives it the next id (w1, w2, ...) and
// attaches its implicit expectation (transactions: tx_inclusion, da:
// da_inclusion) unless the script already declared that expectation. Only
// one workload of each kind is allowed.
func (b *Builder) AddWorkload(w Workload) (string, error) {
	for _, o := range b.workloads {
		if o.Kind == w.Kind {
			return "", fmt.Errorf("%s workload already declared at %s; declare it once", w.Kind, o.Pos)
		}
	}
	b.nw++
	w.ID = fmt.Sprintf("w%d", b.nw)
	b.workloads = append(b.workloads, w)
	switch w.Kind {
	case WorkloadTransactions:
		b.attachImplicit(Expectation{Kind: ExpectTxInclusion, Pos: w.Pos, Inclusion: &InclusionParams{MinRatio: DefaultTxMinRatio}})
	case WorkloadDA:
		b.attachImplicit(Expectation{Kind: ExpectDAInclusion, Pos: w.Pos, Inclusion: &InclusionParams{MinRatio: DefaultDAMinRatio}})
	}
	return w.ID, nil
}

// The default inclusion ratios of the implicit expectations.
const (
	DefaultTxMinRatio = 0.5
	DefaultDAMinRatio = 0.8
)

func (b *Builder) attachImplicit(e Expectation) {
	if b.findExpect(e.Kind) >= 0 {
		return
	}
	e.Implicit = true
	b.addExpect(e)
}

func (b *Builder) findExpect(k ExpectKind) int {
	for i, e := range b.expects {
		if e.Kind == k {
			return i
		}
	}
	return -1
}

// AddFault appends a scheduled fault and gives it the next id (f1, f2, ...).
func (b *Builder) AddFault(f Fault) (string, error) {
	if len(b.faults) >= MaxFaults {
		return "", fmt.Errorf("more than %d faults; a scenario this large is likely a runaway loop", MaxFaults)
	}
	b.nf++
	f.ID = fmt.Sprintf("f%d", b.nf)
	b.faults = append(b.faults, f)
	return f.ID, nil
}

// AddHook appends a run-time hook and gives it the next id (h1, h2, ...).
func (b *Builder) AddHook(h Hook) (string, error) {
	if len(b.hooks) >= MaxHooks {
		return "", fmt.Errorf("more than %d hooks; a scenario this large is likely a runaway loop", MaxHooks)
	}
	h.ID = fmt.Sprintf("h%d", len(b.hooks)+1)
	h.Uses = append([]Capability(nil), h.Uses...)
	b.hooks = append(b.hooks, h)
	return h.ID, nil
}

// AddExpectation appends an expectation with the next id (e1, e2, ...). An
// explicit tx_inclusion or da_inclusion replaces the implicit one a workload
// attached (keeping its id); declaring one of those, liveness or agreement
// twice explicitly is an error.
func (b *Builder) AddExpectation(e Expectation) (string, error) {
	switch e.Kind {
	case ExpectTxInclusion, ExpectDAInclusion, ExpectLiveness, ExpectAgreement:
		if i := b.findExpect(e.Kind); i >= 0 {
			old := b.expects[i]
			if !old.Implicit {
				return "", fmt.Errorf("expect_%s already declared at %s; declare it once", e.Kind, old.Pos)
			}
			e.ID = old.ID
			b.expects[i] = e
			return e.ID, nil
		}
	}
	if len(b.expects) >= MaxExpectations {
		return "", fmt.Errorf("more than %d expectations; a scenario this large is likely a runaway loop", MaxExpectations)
	}
	return b.addExpect(e), nil
}

func (b *Builder) addExpect(e Expectation) string {
	b.ne++
	e.ID = fmt.Sprintf("e%d", b.ne)
	if e.Name == "" {
		e.Name = DefaultName(e)
	}
	b.expects = append(b.expects, e)
	return e.ID
}

// Build returns the plan: defaults filled in, node names and selectors
// resolved, the run window clamped to MinRunBlocks and the derived figures
// computed. The builder is left unchanged, so Build may be called more than
// once (the .star tests inspect the plan mid-script).
func (b *Builder) Build() *Plan {
	p := &Plan{
		Scenario:     b.scenario,
		Seed:         b.seed,
		Topology:     b.Topology(),
		Workloads:    append([]Workload{}, b.workloads...),
		Faults:       make([]Fault, len(b.faults)),
		Expectations: make([]Expectation, len(b.expects)),
		Hooks:        append([]Hook(nil), b.hooks...),
		Warnings:     append([]Warning(nil), b.warnings...),
		Matrix:       b.matrix,
	}
	if b.topology != nil {
		p.Topology.Pos = b.topology.Pos
	}
	if len(b.params) > 0 {
		p.Params = make(map[string]string, len(b.params))
		for k, v := range b.params {
			p.Params[k] = v
		}
	}
	if b.wallets != nil {
		p.Wallets = *b.wallets
	}
	for i, w := range b.workloads {
		if w.ChaosRestart != nil {
			c := *w.ChaosRestart
			c.Targets = chaosTargets(p.Topology, c)
			p.Workloads[i].ChaosRestart = &c
		}
	}
	for i, f := range b.faults {
		p.Faults[i] = p.Topology.resolveFault(f)
	}
	for i, e := range b.expects {
		if e.Log != nil && !e.Log.Targets.IsZero() {
			l := *e.Log
			l.Targets = p.Topology.resolveSelector(l.Targets)
			e.Log = &l
		}
		p.Expectations[i] = e
	}
	if b.run != nil {
		p.Run = *b.run
	} else {
		p.Run = Run{Duration: Duration(DefaultRunDuration)}
	}
	window := p.Topology.RunWindow(p.Run)
	if min := MinRunBlocks * p.Topology.BlockInterval(); window < min {
		p.Warnings = append(p.Warnings, Warning{Pos: p.Run.Pos, Msg: fmt.Sprintf(
			"run window %s is shorter than %d blocks; clamped to %s", window, MinRunBlocks, min)})
		window = min
	}
	p.Derived = derive(p, window)
	return p
}

// chaosTargets lists the nodes chaos_restart may restart: validators only
// when there are at least two (never restart the only validator), executors
// when asked.
func chaosTargets(t Topology, c ChaosRestart) []string {
	var out []string
	for _, n := range t.Nodes {
		if (n.Role == RoleValidator && c.Validators && t.Validators > 1) || (n.Role == RoleExecutor && c.Executors) {
			out = append(out, n.Name)
		}
	}
	return out
}
