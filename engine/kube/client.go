package kube

import (
	"context"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
)

// core is the part of the Kubernetes API the runtime uses: pods,
// namespaces, nodes and config maps, all of core/v1, over a REST client
// whose scheme knows core/v1 only. client-go's clientset would register
// every API group of Kubernetes (57 packages) as the program starts, and
// every netlab command, kubernetes or not, paid that: about 15 ms of CPU
// and 550 page faults of each start (perf stat of a program linking the
// clientset against one linking this).
type core struct{ rc *rest.RESTClient }

// coreScheme is core/v1's scheme, made when a runtime is first made.
var coreScheme = sync.OnceValues(func() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	return s, corev1.AddToScheme(s)
})

// parameterCodec encodes a request's options as its query.
func parameterCodec() runtime.ParameterCodec {
	s, _ := coreScheme()
	return runtime.NewParameterCodec(s)
}

// newCore makes the client of cfg's cluster for core/v1.
func newCore(cfg *rest.Config) (core, error) {
	s, err := coreScheme()
	if err != nil {
		return core{}, err
	}
	c := rest.CopyConfig(cfg)
	c.APIPath = "/api"
	c.GroupVersion = &corev1.SchemeGroupVersion
	c.NegotiatedSerializer = serializer.NewCodecFactory(s).WithoutConversion()
	if c.UserAgent == "" {
		c.UserAgent = rest.DefaultKubernetesUserAgent()
	}
	rc, err := rest.RESTClientFor(c)
	return core{rc: rc}, err
}

// RESTClient is the client requests are made with (a pod's exec).
func (c core) RESTClient() *rest.RESTClient { return c.rc }

// resource is one kind of object, in a namespace ("" for every namespace,
// or for objects of no namespace).
type resource struct {
	rc       *rest.RESTClient
	ns, name string
}

func (r resource) create(ctx context.Context, obj, out runtime.Object) error {
	return r.rc.Post().NamespaceIfScoped(r.ns, r.ns != "").Resource(r.name).Body(obj).Do(ctx).Into(out)
}

func (r resource) update(ctx context.Context, name string, obj, out runtime.Object) error {
	return r.rc.Put().NamespaceIfScoped(r.ns, r.ns != "").Resource(r.name).Name(name).Body(obj).Do(ctx).Into(out)
}

func (r resource) get(ctx context.Context, name string, out runtime.Object) error {
	return r.rc.Get().NamespaceIfScoped(r.ns, r.ns != "").Resource(r.name).Name(name).Do(ctx).Into(out)
}

func (r resource) list(ctx context.Context, opts metav1.ListOptions, out runtime.Object) error {
	return r.rc.Get().NamespaceIfScoped(r.ns, r.ns != "").Resource(r.name).VersionedParams(&opts, parameterCodec()).Do(ctx).Into(out)
}

func (r resource) delete(ctx context.Context, name string, opts metav1.DeleteOptions) error {
	return r.rc.Delete().NamespaceIfScoped(r.ns, r.ns != "").Resource(r.name).Name(name).Body(&opts).Do(ctx).Error()
}

func (r resource) watch(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
	opts.Watch = true
	return r.rc.Get().NamespaceIfScoped(r.ns, r.ns != "").Resource(r.name).VersionedParams(&opts, parameterCodec()).Watch(ctx)
}

// Pods in namespace ns ("" lists every namespace's).
func (c core) Pods(ns string) pods { return pods{resource{c.rc, ns, "pods"}} }

type pods struct{ r resource }

func (p pods) Create(ctx context.Context, pod *corev1.Pod, _ metav1.CreateOptions) (*corev1.Pod, error) {
	out := &corev1.Pod{}
	return out, p.r.create(ctx, pod, out)
}

func (p pods) Get(ctx context.Context, name string, _ metav1.GetOptions) (*corev1.Pod, error) {
	out := &corev1.Pod{}
	return out, p.r.get(ctx, name, out)
}

func (p pods) List(ctx context.Context, opts metav1.ListOptions) (*corev1.PodList, error) {
	out := &corev1.PodList{}
	return out, p.r.list(ctx, opts, out)
}

func (p pods) Delete(ctx context.Context, name string, opts metav1.DeleteOptions) error {
	return p.r.delete(ctx, name, opts)
}

func (p pods) Watch(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
	return p.r.watch(ctx, opts)
}

// GetLogs is the request for a pod's log.
func (p pods) GetLogs(name string, opts *corev1.PodLogOptions) *rest.Request {
	return p.r.rc.Get().Namespace(p.r.ns).Resource("pods").Name(name).SubResource("log").VersionedParams(opts, parameterCodec())
}

// Namespaces of the cluster.
func (c core) Namespaces() namespaces { return namespaces{resource{c.rc, "", "namespaces"}} }

type namespaces struct{ r resource }

func (n namespaces) Create(ctx context.Context, ns *corev1.Namespace, _ metav1.CreateOptions) (*corev1.Namespace, error) {
	out := &corev1.Namespace{}
	return out, n.r.create(ctx, ns, out)
}

func (n namespaces) Get(ctx context.Context, name string, _ metav1.GetOptions) (*corev1.Namespace, error) {
	out := &corev1.Namespace{}
	return out, n.r.get(ctx, name, out)
}

func (n namespaces) Delete(ctx context.Context, name string, opts metav1.DeleteOptions) error {
	return n.r.delete(ctx, name, opts)
}

// Nodes of the cluster.
func (c core) Nodes() nodes { return nodes{resource{c.rc, "", "nodes"}} }

type nodes struct{ r resource }

func (n nodes) List(ctx context.Context, opts metav1.ListOptions) (*corev1.NodeList, error) {
	out := &corev1.NodeList{}
	return out, n.r.list(ctx, opts, out)
}

// ConfigMaps in namespace ns.
func (c core) ConfigMaps(ns string) configMaps { return configMaps{resource{c.rc, ns, "configmaps"}} }

type configMaps struct{ r resource }

func (m configMaps) Create(ctx context.Context, cm *corev1.ConfigMap, _ metav1.CreateOptions) (*corev1.ConfigMap, error) {
	out := &corev1.ConfigMap{}
	return out, m.r.create(ctx, cm, out)
}

func (m configMaps) Update(ctx context.Context, cm *corev1.ConfigMap, _ metav1.UpdateOptions) (*corev1.ConfigMap, error) {
	out := &corev1.ConfigMap{}
	return out, m.r.update(ctx, cm.Name, cm, out)
}

func (m configMaps) Delete(ctx context.Context, name string, opts metav1.DeleteOptions) error {
	return m.r.delete(ctx, name, opts)
}
