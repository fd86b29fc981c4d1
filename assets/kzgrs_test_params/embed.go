// Package kzgrstestparams embeds the test KZG parameter file, so a reference
// node finds its parameters from any working directory.
package kzgrstestparams

import _ "embed"

// File is the content of kzgrs_test_params, written by tools/kzgparams.
//
//go:embed kzgrs_test_params
var File []byte
