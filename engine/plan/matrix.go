package plan

// MatrixAxis is one dimension of the scenario's declared matrix: a param
// name and the values `nomosrun matrix` runs it with, in order.
type MatrixAxis struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
	Pos    Pos      `json:"pos"`
}

// SetMatrix records the matrix declared by the script, replacing any
// earlier one.
func (b *Builder) SetMatrix(axes []MatrixAxis) { b.matrix = append([]MatrixAxis(nil), axes...) }

// Matrix returns the matrix recorded so far (nil when none).
func (b *Builder) Matrix() []MatrixAxis { return b.matrix }
