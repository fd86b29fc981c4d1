package k8s

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nomosrun/nomosrun/internal/owner"
)

// annotationOwner holds the host:pid of the nomosrun that made a namespace.
const annotationOwner = "nomosrun.io/owner"

// Clean deletes the namespaces runs made (labelled with their run id) whose
// nomosrun process has exited, with everything in them: pods and their
// network agents, whose rules live and die in the pods' namespaces. With
// run set it deletes that run's namespace whatever its owner. It returns
// the namespaces deleted and those kept because their run still goes.
// Runs in a given, shared namespace are not touched: their objects carry
// the run label for kubectl delete -l.
func (r *Runner) Clean(ctx context.Context, run string) (removed, kept []string, err error) {
	client, _, err := r.connect()
	if err != nil {
		return nil, nil, err
	}
	sel := labelRun
	if run != "" {
		sel += "=" + run
	}
	nss, err := client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return nil, nil, fmt.Errorf("list the runs' namespaces: %w", err)
	}
	var errs []error
	for _, ns := range nss.Items {
		if ns.Labels["app.kubernetes.io/managed-by"] != "nomosrun" || ns.DeletionTimestamp != nil {
			continue
		}
		if run == "" && owner.Live(ns.Annotations[annotationOwner]) {
			kept = append(kept, ns.Name)
			continue
		}
		err := client.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{})
		switch {
		case err == nil:
			removed = append(removed, ns.Name)
		case !apierrors.IsNotFound(err):
			errs = append(errs, fmt.Errorf("delete namespace %s: %w", ns.Name, err))
		}
	}
	return removed, kept, errors.Join(errs...)
}
