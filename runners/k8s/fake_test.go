package k8s

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// fakeCluster is a fake clientset with just enough of a control plane: it
// assigns Service IPs and NodePorts, and a fake kubelet keeps one pod per
// Deployment with replicas 1, in the state podState gives.
type fakeCluster struct {
	*fake.Clientset
	api      *httptest.Server
	podState func(p *corev1.Pod) // sets the status of a new pod; default Running and Ready
	stop     chan struct{}
	wg       sync.WaitGroup
	seq      atomic.Int64
}

func newFakeCluster(t *testing.T) *fakeCluster {
	t.Helper()
	f := &fakeCluster{Clientset: fake.NewClientset(), stop: make(chan struct{})}
	f.api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "{}") }))
	_, port, _ := net.SplitHostPort(f.api.Listener.Addr().String())
	nodePort, _ := strconv.Atoi(port)
	var ips atomic.Int64
	f.PrependReactor("create", "services", func(a k8stesting.Action) (bool, runtime.Object, error) {
		s := a.(k8stesting.CreateAction).GetObject().(*corev1.Service)
		s.Spec.ClusterIP = fmt.Sprintf("10.96.0.%d", ips.Add(1))
		for i := range s.Spec.Ports {
			s.Spec.Ports[i].NodePort = int32(nodePort)
		}
		return false, nil, nil
	})
	// The fake tracker has no delete-collection: delete what the selector matches.
	f.PrependReactor("delete-collection", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		dc := a.(k8stesting.DeleteCollectionAction)
		sel, err := labels.Parse(dc.GetListRestrictions().Labels.String())
		if err != nil {
			return true, nil, err
		}
		gvr := dc.GetResource()
		gvk := gvr.GroupVersion().WithKind(map[string]string{
			"pods": "Pod", "deployments": "Deployment", "configmaps": "ConfigMap", "persistentvolumeclaims": "PersistentVolumeClaim",
		}[gvr.Resource])
		list, err := f.Tracker().List(gvr, gvk, dc.GetNamespace())
		if err != nil {
			return true, nil, err
		}
		items, _ := metaItems(list)
		for _, it := range items {
			if sel.Matches(labels.Set(it.GetLabels())) {
				_ = f.Tracker().Delete(gvr, dc.GetNamespace(), it.GetName())
			}
		}
		return true, nil, nil
	})
	f.wg.Add(1)
	go f.kubelet()
	t.Cleanup(func() { close(f.stop); f.wg.Wait(); f.api.Close() })
	return f
}

func metaItems(list runtime.Object) ([]metav1.Object, error) {
	var out []metav1.Object
	switch l := list.(type) {
	case *corev1.PodList:
		for i := range l.Items {
			out = append(out, &l.Items[i])
		}
	case *appsv1.DeploymentList:
		for i := range l.Items {
			out = append(out, &l.Items[i])
		}
	case *corev1.ConfigMapList:
		for i := range l.Items {
			out = append(out, &l.Items[i])
		}
	case *corev1.PersistentVolumeClaimList:
		for i := range l.Items {
			out = append(out, &l.Items[i])
		}
	}
	return out, nil
}

// kubelet reconciles pods with Deployments every few milliseconds.
func (f *fakeCluster) kubelet() {
	defer f.wg.Done()
	ctx := context.Background()
	for {
		select {
		case <-f.stop:
			return
		case <-time.After(5 * time.Millisecond):
		}
		deps, err := f.AppsV1().Deployments("").List(ctx, metav1.ListOptions{})
		if err != nil {
			continue
		}
		for _, d := range deps.Items {
			sel := labels.SelectorFromSet(d.Spec.Selector.MatchLabels).String()
			pods, _ := f.CoreV1().Pods(d.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
			want := int(*d.Spec.Replicas)
			switch {
			case len(pods.Items) < want:
				n := f.seq.Add(1)
				p := &corev1.Pod{
					ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", d.Name, n), Namespace: d.Namespace,
						Labels: d.Spec.Template.Labels, UID: types.UID(fmt.Sprintf("uid-%d", n))},
					Spec: d.Spec.Template.Spec,
					Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{
						{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
				}
				if f.podState != nil {
					f.podState(p)
				}
				_, _ = f.CoreV1().Pods(d.Namespace).Create(ctx, p, metav1.CreateOptions{})
			case len(pods.Items) > want:
				for _, p := range pods.Items[want:] {
					_ = f.CoreV1().Pods(d.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{})
				}
			}
		}
	}
}

func fakeRunner(t *testing.T, f *fakeCluster, mod func(*Options)) *Runner {
	t.Helper()
	opts := Options{Client: f, NodeHost: "127.0.0.1", Image: "example.org/node:1", DeployTimeout: 5 * time.Second,
		ProbeTimeout: time.Second, Poll: 5 * time.Millisecond}
	if mod != nil {
		mod(&opts)
	}
	r, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
