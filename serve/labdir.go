package serve

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// What a class copies from beside a lab file: a lab's configs, scripts
// and volumes live in its folder, and each class lab gets a copy of its
// own (a student's changes to a volume are theirs alone). A folder
// beyond these limits is refused at class creation.
const (
	MaxLabDirBytes = 64 << 20
	MaxLabDirFiles = 2000
)

// labDirFile is a file or folder to copy, relative to the lab's folder.
type labDirFile struct {
	rel  string
	mode fs.FileMode
	link string // a symbolic link's target (relative, staying inside)
}

// scanLabDir lists what is beside the lab file skip in dir and below
// (not .git), checking the limits, and that no symbolic link leads out
// of the folder: what a class copies is the lab's own, never the host's.
func scanLabDir(dir, skip string) ([]labDirFile, error) {
	var out []labDirFile
	var bytes int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." || rel == skip {
			return nil
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		f := labDirFile{rel: rel, mode: info.Mode()}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			inside := filepath.Join(filepath.Dir(rel), target)
			if filepath.IsAbs(target) || inside == ".." || strings.HasPrefix(inside, ".."+string(filepath.Separator)) {
				return usagef("%s beside the lab file is a symbolic link to %s, outside the lab's folder: a class copies only the lab's own files", p, target)
			}
			f.link = target
		case info.Mode().IsRegular():
			bytes += info.Size()
		case !info.IsDir():
			return usagef("%s beside the lab file is not a file, folder or link: a class copies only those", p)
		}
		out = append(out, f)
		if len(out) > MaxLabDirFiles || bytes > MaxLabDirBytes {
			return usagef("the lab's folder %s holds more than %d files or %d MiB beside the lab file; a class copies at most that: put the lab and what it uses in a folder of their own", dir, MaxLabDirFiles, MaxLabDirBytes>>20)
		}
		return nil
	})
	if err != nil && !IsUsage(err) {
		return nil, usagef("read the lab's folder %s: %v", dir, err)
	}
	return out, err
}

// copyLabDir copies files (from scanLabDir) from src to dst.
func copyLabDir(src, dst string, files []labDirFile) error {
	for _, f := range files {
		from, to := filepath.Join(src, f.rel), filepath.Join(dst, f.rel)
		var err error
		switch {
		case f.link != "":
			err = os.Symlink(f.link, to)
		case f.mode.IsDir():
			err = os.MkdirAll(to, f.mode.Perm()|0o700)
		default:
			err = copyFile(from, to, f.mode.Perm())
		}
		if err != nil {
			return fmt.Errorf("copy %s of the lab's folder to %s: %w", f.rel, dst, err)
		}
	}
	return nil
}

func copyFile(from, to string, perm fs.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
