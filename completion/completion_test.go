package completion

import (
	"strings"
	"testing"
)

func TestScript(t *testing.T) {
	for shell, want := range map[string]string{"bash": "complete -F _netlab netlab", "zsh": "bashcompinit", "fish": "complete -c netlab"} {
		s, ok := Script(shell)
		if !ok || !strings.Contains(s, want) || !strings.Contains(s, "--generate-bash-completion") {
			t.Errorf("Script(%q) = %q, %v", shell, s, ok)
		}
	}
	if s, ok := Script("tcsh"); ok || s != "" {
		t.Errorf("tcsh: %q, %v", s, ok)
	}
}
