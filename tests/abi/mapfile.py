"""Reads lib/libdynmem.map, the version script: shared by the abi gates."""
import pathlib
import re


def map_nodes(map_path):
    """{node: [names in the order written]} of a version script."""
    text = re.sub(r"/\*.*?\*/", "", pathlib.Path(map_path).read_text(), flags=re.S)
    nodes = {}
    for node, body in re.findall(r"(\w[\w.]*)\s*\{(.*?)\}\s*[\w.]*\s*;", text, flags=re.S):
        body = re.sub(r"\blocal\s*:\s*\*\s*;", "", body)
        body = re.sub(r"\bglobal\s*:", "", body)
        nodes[node] = re.findall(r"([A-Za-z_]\w*)\s*;", body)
    return nodes
