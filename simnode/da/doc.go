// Package da is the data-availability core of the reference node: it
// erasure-codes a blob, commits to it with KZG over BLS12-381, produces one
// share per column (one column per DA subnet), verifies shares and
// reconstructs a blob from any half of its columns.
//
// # Scheme
//
// It is a simplification of the Nomos kzgrs backend:
//
//   - The blob is padded with a 0x80 marker byte and zeros, then split into
//     31-byte chunks; each chunk is one BLS12-381 Fr element (31 bytes always
//     fit under the modulus). Chunks are laid out row-major in rows of
//     k = Columns/2 elements.
//   - Each row is the evaluation form of a polynomial p of degree < k. The
//     row is extended to n = 2k columns by evaluating p on the n-th roots of
//     unity (gnark-crypto FFT). Column j holds p(x_j) with
//     x_j = ω^bitrev(j), ω a fixed 2^16-th root of unity; with this order the
//     first k columns are exactly the original chunks (a systematic code)
//     and x_j does not depend on n.
//   - Every row polynomial is committed with KZG; the blob id is the
//     Blake2b-256 hash of the concatenated compressed row commitments.
//   - Each column carries one combined proof, as Nomos' "combined column
//     proof": a challenge h = H(blob id, column index, column cells) folds
//     the rows into P = Σ hⁱ·pᵢ, and the proof is a KZG opening of P at x_j.
//     A verifier folds the row commitments and the cells with the same h and
//     checks one pairing. Because h covers the cells, a tampered cell changes
//     h and the check fails except with negligible probability.
//
// Reed-Solomon is done over Fr by polynomial evaluation rather than with a
// byte-level GF(2^8) coder (klauspost/reedsolomon): only then are the
// extension columns evaluations of the committed polynomials, so that a
// single KZG opening can bind a column to the row commitments. Any k of the
// n columns determine every row polynomial (Lagrange interpolation).
//
// Padding: the 0x80 marker makes every length exact (Nomos leaves a short
// tail unpadded); an empty blob is one row. Reconstruct verifies every
// share it uses and then checks the interpolated rows against the row
// commitments with one random linear combination, so a wrong column count
// or an over-degree commitment is an error, never wrong data.
//
// # Parameters
//
// LoadParams reads one file; ParamsPath resolves NOMOS_KZGRS_PARAMS_PATH,
// then /kzgrs_test_params/kzgrs_test_params (images, pods), then
// assets/kzgrs_test_params/kzgrs_test_params under the module root.
// LoadDefaultParams adds a last fallback, the copy embedded in the binary
// (package assets/kzgrs_test_params), so a node runs from any directory;
// an explicit NOMOS_KZGRS_PARAMS_PATH that does not exist is still an error.
//
// The parameters (an SRS of powers of tau) come from tools/kzgparams, which
// derives tau from a fixed public seed. That setup is for tests only and is
// not secure: anyone can recompute tau and forge openings.
package da
