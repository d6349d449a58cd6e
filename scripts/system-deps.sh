#!/usr/bin/env bash
# Check (and on Debian/Ubuntu as root, install) the system toolchain bookgen needs:
# XeLaTeX with ctex, latexmk, the Noto CJK / Noto / LXGW WenKai / TeX Gyre faces, poppler-utils,
# Java for EPUBCheck, python3-venv for the project's virtual environment, and for the web edition's
# tests Chromium (driven by Playwright, never downloaded; Playwright's own node needs libatomic1) and
# npm (axe-core, Ace by DAISY).
set -eu

packages="texlive-xetex texlive-lang-chinese texlive-latex-extra texlive-latex-recommended
  texlive-fonts-recommended latexmk fonts-noto-cjk fonts-noto-core fonts-noto-mono
  fonts-lxgw-wenkai fonts-texgyre fonts-texgyre-math fontconfig poppler-utils
  default-jre-headless python3-venv python3-pip zbar-tools libgs-common lmodern nodejs npm chromium libatomic1"

missing() {
  for cmd in xelatex latexmk pdffonts pdfinfo pdftotext pdfimages pdftoppm java fc-match fc-list kpsewhich zbarimg node npm chromium; do
    command -v "$cmd" >/dev/null 2>&1 || { echo "command $cmd"; return 0; }
  done
  for sty in ctexbook.cls xeCJK.sty fvextra.sty emptypage.sty unicode-math.sty lmodern.sty; do
    [ -n "$(kpsewhich "$sty" 2>/dev/null)" ] || { echo "TeX file $sty"; return 0; }
  done
  for face in "Noto Serif CJK SC" "Noto Sans CJK SC" "Noto Serif" "LXGW WenKai" "LXGW WenKai Mono" "TeX Gyre Termes" "TeX Gyre Termes Math" "Noto Sans Mono"; do
    fc-list ":family=$face" family | grep -q . || { echo "font $face"; return 0; }
  done
  [ -f /usr/share/color/icc/ghostscript/default_cmyk.icc ] || { echo "the CMYK ICC profile (libgs-common)"; return 0; }
  python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || { echo "python3-venv"; return 0; }
  ldconfig -p 2>/dev/null | grep -q 'libatomic\.so\.1' || { echo "libatomic1 (Playwright's node)"; return 0; }
  return 1
}

what=$(missing) || exit 0
echo "bookgen: the system toolchain is incomplete (missing: $what)."
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "bookgen: installing with apt-get: $(echo $packages)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $packages >/dev/null
  what=$(missing) && { echo "bookgen: still missing after apt-get: $what" >&2; exit 1; }
  exit 0
fi
cat >&2 <<MSG
bookgen: please install the toolchain, then run make again. On Debian or Ubuntu (as root):
  apt-get install $(echo $packages)
Elsewhere: TeX Live with XeLaTeX, ctex, latexmk and fvextra; the fonts Noto Serif CJK SC,
Noto Sans CJK SC, Noto Serif, Noto Sans Mono, LXGW WenKai and TeX Gyre Termes Math;
poppler-utils; zbar-tools; Ghostscript's ICC profiles; a Java runtime (17 or later); Python 3.11+ with venv;
Chromium and npm (for the web edition's browser tests).
MSG
exit 1
