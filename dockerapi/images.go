package dockerapi

import (
	"context"
	"io"
	"net/http"
	"net/url"
)

// Image is what ImageInspect tells of an image.
type Image struct {
	ID     string `json:"Id"`
	Config *struct {
		Entrypoint []string
		Cmd        []string
		Env        []string
		WorkingDir string
		User       string
		Labels     map[string]string
	}
	RootFS struct {
		Layers []string
	}
}

// ImageInspect tells an image's configuration and layers.
func (c *Client) ImageInspect(ctx context.Context, ref string) (*Image, error) {
	if err := checkImage(ref); err != nil {
		return nil, err
	}
	var out Image
	if err := c.call(ctx, http.MethodGet, "/images/"+ref+"/json", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ImageSave is the archive `docker save` writes of the images refs.
func (c *Client) ImageSave(ctx context.Context, refs ...string) (io.ReadCloser, error) {
	for _, r := range refs {
		if err := checkImage(r); err != nil {
			return nil, err
		}
	}
	resp, err := c.do(ctx, http.MethodGet, "/images/get", url.Values{"names": refs}, nil)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// Version is the engine's version and newest API version.
type Version struct {
	Version    string
	APIVersion string `json:"ApiVersion"`
}

// ServerVersion tells the engine's version.
func (c *Client) ServerVersion(ctx context.Context) (*Version, error) {
	var out Version
	if err := c.call(ctx, http.MethodGet, "/version", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// StorageDriver is the engine's storage driver (overlay2, …).
func (c *Client) StorageDriver(ctx context.Context) (string, error) {
	var out struct{ Driver string }
	err := c.call(ctx, http.MethodGet, "/info", nil, nil, &out)
	return out.Driver, err
}
