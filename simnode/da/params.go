package da

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"sync"

	"github.com/consensys/gnark-crypto/ecc"
	bls12381 "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fp"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr/fft"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/kzg"
	"golang.org/x/crypto/blake2b"

	kzgrstestparams "github.com/nomosrun/nomosrun/assets/kzgrs_test_params"
)

// ParamsEnv names the environment variable that overrides the parameter path.
const ParamsEnv = "NOMOS_KZGRS_PARAMS_PATH"

// ContainerParamsPath is where images and pods carry the parameter file.
const ContainerParamsPath = "/kzgrs_test_params/kzgrs_test_params"

// RepoParamsPath is the parameter file relative to the module root.
const RepoParamsPath = "assets/kzgrs_test_params/kzgrs_test_params"

// TestParamsSize is the number of G1 powers tools/kzgparams writes: rows of
// up to 1024 elements, so up to 2048 columns.
const TestParamsSize = 1024

// testParamsSeed is the public seed tau is derived from. Public on purpose:
// these parameters are for tests and are not secure.
const testParamsSeed = "nomosrun kzgrs test parameters v1 (insecure, for tests only)"

// Params is a loaded KZG structured reference string plus the FFT domains
// derived from it. It is safe for concurrent use.
type Params struct {
	srs     kzg.SRS
	domains sync.Map // uint64 -> *fft.Domain
}

// MissingParamsError reports a parameter file that does not exist.
type MissingParamsError struct {
	Path string
	Err  error
}

// Error names the path and the two ways to fix it.
func (e *MissingParamsError) Error() string {
	return fmt.Sprintf("missing KZG parameters at %s (set %s or run go run ./tools/kzgparams)", e.Path, ParamsEnv)
}

// Unwrap returns the underlying file-system error.
func (e *MissingParamsError) Unwrap() error { return e.Err }

// LoadParams reads a parameter file written by tools/kzgparams (gnark-crypto's
// compressed SRS encoding) and checks that it is a consistent SRS.
func LoadParams(path string) (*Params, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &MissingParamsError{Path: path, Err: err}
	}
	if err != nil {
		return nil, fmt.Errorf("read KZG parameters: %w", err)
	}
	p, err := ParseParams(raw)
	if err != nil {
		return nil, fmt.Errorf("KZG parameters at %s: %w", path, err)
	}
	return p, nil
}

// LoadDefaultParams loads the parameters the node uses when nothing else is
// configured: the file named by NOMOS_KZGRS_PARAMS_PATH (an error if it is
// missing), else the container or repository file, else the copy embedded in
// the binary, so a node works from any directory.
func LoadDefaultParams() (*Params, error) {
	if env := os.Getenv(ParamsEnv); env != "" {
		return LoadParams(env)
	}
	path := ParamsPath()
	if _, err := os.Stat(path); err == nil {
		return LoadParams(path)
	}
	p, err := ParseParams(kzgrstestparams.File)
	if err != nil {
		return nil, fmt.Errorf("embedded KZG parameters: %w", err)
	}
	return p, nil
}

// ParamsPath returns NOMOS_KZGRS_PARAMS_PATH if set, else the container path
// if that file exists, else the repository file found by walking up from the
// working directory to go.mod, else RepoParamsPath as is.
func ParamsPath() string {
	if env := os.Getenv(ParamsEnv); env != "" {
		return env
	}
	if _, err := os.Stat(ContainerParamsPath); err == nil {
		return ContainerParamsPath
	}
	if dir, err := os.Getwd(); err == nil {
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				return filepath.Join(dir, filepath.FromSlash(RepoParamsPath))
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return filepath.FromSlash(RepoParamsPath)
}

// Sizes of gnark-crypto's compressed SRS encoding: a big-endian uint32
// count, the G1 powers, then the verifying key (two G2 points, one G1 point
// and 2×2×63 precomputed pairing lines of two E2 elements each).
const (
	srsCountSize = 4
	vkSize       = 2*bls12381.SizeOfG2AffineCompressed + bls12381.SizeOfG1AffineCompressed + 2*2*63*2*2*fp.Bytes
)

// ParseParams decodes parameters from their serialized form.
func ParseParams(raw []byte) (*Params, error) {
	// gnark-crypto allocates whatever count the header claims; check it
	// against the size first so a corrupt file cannot exhaust memory.
	if len(raw) < srsCountSize+vkSize {
		return nil, fmt.Errorf("corrupt parameter file: %d bytes is too short", len(raw))
	}
	count := binary.BigEndian.Uint32(raw)
	if want := srsCountSize + int64(count)*bls12381.SizeOfG1AffineCompressed + vkSize; want != int64(len(raw)) {
		return nil, fmt.Errorf("corrupt parameter file: header announces %d powers (%d bytes), file has %d bytes", count, want, len(raw))
	}
	var srs kzg.SRS
	r := bytes.NewReader(raw)
	if _, err := srs.ReadFrom(r); err != nil {
		return nil, fmt.Errorf("corrupt parameter file: %w", err)
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("corrupt parameter file: %d trailing bytes", r.Len())
	}
	if err := checkSRS(&srs); err != nil {
		return nil, fmt.Errorf("corrupt parameter file: %w", err)
	}
	return &Params{srs: srs}, nil
}

// checkSRS verifies that the powers in the proving key follow one tau and
// match the verifying key: e(Σ rᵢ·G1[i+1], G2) = e(Σ rᵢ·G1[i], τ·G2) for
// random rᵢ, a single pairing check instead of one per power.
func checkSRS(srs *kzg.SRS) error {
	g1 := srs.Pk.G1
	if len(g1) < 2 {
		return fmt.Errorf("need at least 2 powers of tau, have %d", len(g1))
	}
	_, _, gen1, gen2 := bls12381.Generators()
	if !g1[0].Equal(&gen1) || !srs.Vk.G1.Equal(&gen1) || !srs.Vk.G2[0].Equal(&gen2) {
		return errors.New("generators do not match BLS12-381")
	}
	scalars := make([]fr.Element, len(g1)-1)
	for i := range scalars {
		if _, err := scalars[i].SetRandom(); err != nil {
			return fmt.Errorf("random scalars: %w", err)
		}
	}
	var lo, hi bls12381.G1Affine
	if _, err := lo.MultiExp(g1[:len(g1)-1], scalars, ecc.MultiExpConfig{}); err != nil {
		return err
	}
	if _, err := hi.MultiExp(g1[1:], scalars, ecc.MultiExpConfig{}); err != nil {
		return err
	}
	var negLo bls12381.G1Affine
	negLo.Neg(&lo)
	ok, err := bls12381.PairingCheck(
		[]bls12381.G1Affine{hi, negLo},
		[]bls12381.G2Affine{srs.Vk.G2[0], srs.Vk.G2[1]})
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("powers of tau are inconsistent")
	}
	// The serialized pairing lines must be those of the G2 points they claim.
	want0, want1 := bls12381.PrecomputeLines(srs.Vk.G2[0]), bls12381.PrecomputeLines(srs.Vk.G2[1])
	if want0 != srs.Vk.Lines[0] || want1 != srs.Vk.Lines[1] {
		return errors.New("precomputed pairing lines do not match the verifying key")
	}
	return nil
}

// GenerateTestParams builds the deterministic, insecure test SRS with size
// powers of tau; tau is derived from a fixed public seed.
func GenerateTestParams(size int) (*Params, error) {
	if size < 2 {
		return nil, fmt.Errorf("parameter size must be at least 2, got %d", size)
	}
	sum := blake2b.Sum256([]byte(testParamsSeed))
	var tau fr.Element
	tau.SetBytes(sum[:])
	srs, err := kzg.NewSRS(uint64(size), tau.BigInt(new(big.Int)))
	if err != nil {
		return nil, fmt.Errorf("generate SRS: %w", err)
	}
	return &Params{srs: *srs}, nil
}

// WriteTo writes the parameters in gnark-crypto's compressed SRS encoding,
// the format LoadParams reads.
func (p *Params) WriteTo(w io.Writer) (int64, error) {
	return p.srs.WriteTo(w)
}

// MaxColumns is the largest column count these parameters can commit to.
func (p *Params) MaxColumns() int { return 2 * len(p.srs.Pk.G1) }

// domain returns the (cached) FFT domain of size m.
func (p *Params) domain(m int) *fft.Domain {
	if d, ok := p.domains.Load(uint64(m)); ok {
		return d.(*fft.Domain)
	}
	d, _ := p.domains.LoadOrStore(uint64(m), fft.NewDomain(uint64(m)))
	return d.(*fft.Domain)
}
