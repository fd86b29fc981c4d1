package main

import (
	"context"
	"fmt"

	"github.com/nomosrun/nomosrun/runners/kernelnet"
)

// cleanNamespaces removes the network namespaces of killed host runs in
// netns mode; without the privilege to manage namespaces there are none
// this user could have made.
func cleanNamespaces(ctx context.Context, a *app) (int, error) {
	if kernelnet.Available() != nil {
		return 0, nil
	}
	removed, err := kernelnet.Clean(ctx, kernelnet.DefaultPrefix)
	for _, o := range removed {
		fmt.Fprintf(a.stdout, "removed %s\n", o)
	}
	return len(removed), err
}
