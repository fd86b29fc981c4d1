package doctor

import (
	"context"
	"errors"
	"fmt"
	"github.com/nomosrun/nomosrun/nodeimage"
	"os"
	"os/exec"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/client"
	"github.com/nomosrun/nomosrun/internal/env"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/tools/clientcmd"
)

const dockerFix = "start the Docker engine (systemctl start docker, or dockerd) and make sure this user may use it " +
	"(root or the docker group), or set DOCKER_HOST to a reachable engine"

func checkDocker(ctx context.Context, p *Probes) Result {
	d, err := p.Docker()
	if err != nil {
		return fail(dockerFix, "%v", err)
	}
	defer d.Close()
	ctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	api, err := d.Ping(ctx)
	if err != nil {
		return fail(dockerFix, "cannot reach the Docker engine at %s: %v", d.Host(), err)
	}
	return ok("%s, API %s", d.Host(), api)
}

func checkImage(ctx context.Context, p *Probes) Result {
	tag := p.ImageTag()
	d, err := p.Docker()
	if err != nil {
		return fail("fix the Docker engine first (see above)", "cannot look for %s: %v", tag, err)
	}
	defer d.Close()
	ctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	if _, err := d.Ping(ctx); err != nil {
		return fail("fix the Docker engine first (see above)", "cannot look for %s: the engine at %s does not answer", tag, d.Host())
	}
	found, err := d.ImageExists(ctx, tag)
	if err != nil {
		return fail("check the engine's log (journalctl -u docker): inspecting images must work", "cannot inspect %s at %s: %v", tag, d.Host(), err)
	}
	if !found && tag != nodeimage.PinnedTag() {
		// Only the pinned tag is built on demand: another tag names an
		// image the user meant to provide.
		return fail("build it: nomosrun image build --tag "+tag,
			"%s (from %s) is not in the engine at %s; only %s is built on demand", tag, env.Image.Name, d.Host(), nodeimage.PinnedTag())
	}
	if !found {
		// The compose runner builds the pinned image from its own binary when missing.
		return ok("%s not in the engine yet: the first compose run builds it from this binary (nomosrun image build does it now)", tag)
	}
	return ok("%s", tag)
}

const composeFix = "install Compose: apt-get install docker-compose (v1), or the docker compose plugin (v2)"

func checkCompose(_ context.Context, p *Probes) Result {
	cli, err := p.ComposeCLI()
	if err != nil {
		return fail(composeFix, "%v", err)
	}
	return ok("%s", cli)
}

// composeCLI finds the Compose command the compose runner uses: the
// docker compose plugin, else docker-compose.
func composeCLI() (string, error) {
	if err := exec.Command("docker", "compose", "version").Run(); err == nil {
		return "docker compose", nil
	}
	if p, err := exec.LookPath("docker-compose"); err == nil {
		return p, nil
	}
	return "", errors.New("neither 'docker compose' nor 'docker-compose' works")
}

const kubeconfigFix = "set KUBECONFIG to the cluster's kubeconfig file, or write it to ~/.kube/config"

func checkKubeconfig(_ context.Context, p *Probes) Result {
	k, err := p.Kube()
	if err != nil {
		return fail(kubeconfigFix, "%v", err)
	}
	return ok("API server %s", k.Host())
}

func checkCluster(ctx context.Context, p *Probes) Result {
	k, err := p.Kube()
	if err != nil {
		return fail("fix the kubeconfig first (see above)", "cannot check without a kubeconfig")
	}
	ctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	v, err := k.ServerVersion(ctx)
	if err != nil {
		return fail("start the cluster, or select a reachable one: kubectl config use-context NAME",
			"cannot reach the API server at %s: %v", k.Host(), err)
	}
	return ok("%s, Kubernetes %s", k.Host(), v)
}

// dockerEngine is Docker over the Docker SDK.
type dockerEngine struct{ cli *client.Client }

func dialDocker() (Docker, error) {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	return dockerEngine{cli}, nil
}

func (d dockerEngine) Host() string { return d.cli.DaemonHost() }
func (d dockerEngine) Close() error { return d.cli.Close() }

func (d dockerEngine) Ping(ctx context.Context) (string, error) {
	p, err := d.cli.Ping(ctx)
	return p.APIVersion, err
}

func (d dockerEngine) ImageExists(ctx context.Context, tag string) (bool, error) {
	_, err := d.cli.ImageInspect(ctx, tag)
	if cerrdefs.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// kubeCluster is Kube over client-go.
type kubeCluster struct {
	host string
	dc   *discovery.DiscoveryClient
}

func loadKube() (Kube, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) {
			where := "~/.kube/config"
			if env := os.Getenv(clientcmd.RecommendedConfigPathEnvVar); env != "" {
				where = env
			}
			return nil, fmt.Errorf("no kubeconfig (looked in %s)", where)
		}
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	return kubeCluster{host: cfg.Host, dc: dc}, nil
}

func (k kubeCluster) Host() string { return k.host }

func (k kubeCluster) ServerVersion(ctx context.Context) (string, error) {
	type answer struct {
		v   string
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		info, err := k.dc.ServerVersion()
		if err != nil {
			ch <- answer{err: err}
			return
		}
		ch <- answer{v: info.GitVersion}
	}()
	select {
	case a := <-ch:
		return a.v, a.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}
