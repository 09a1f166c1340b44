"""Ship the top-level samples/ folder inside the package as autogradcli/samples.

Everything else about the build is in pyproject.toml; only this mapping needs setup.py.
"""

from setuptools import find_packages, setup

FILES = ["*.txt", "*.py", "*.csv", "*.json", "*.md", "*.agrad", "*.ipynb"]
SAMPLES = [
    "autogradcli.samples",
    "autogradcli.samples.rules",
    "autogradcli.samples.errors",
    "autogradcli.samples.impl",
]

setup(
    packages=[*find_packages(include=["autogradcli", "autogradcli.*"]), *SAMPLES],
    package_dir={name: name.replace("autogradcli.", "").replace(".", "/") for name in SAMPLES},
    package_data={
        **{name: FILES for name in SAMPLES},
        "autogradcli.render": ["*.js", "*.css"],  # the explain page's script and style
    },
)
