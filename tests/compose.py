"""Read docker-compose.yml the way Compose does for what the tests need: anchors, merge keys and
${VAR}, ${VAR:-default}, ${VAR:?message} interpolation."""

import re
from pathlib import Path

import yaml

COMPOSE_FILE = Path(__file__).resolve().parent.parent / "docker-compose.yml"
_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:-|:\?)(?P<arg>[^}]*))?\}")


class MissingVariable(KeyError):
    pass


def interpolate(value, variables):
    def replace(match):
        name, op, arg = match["name"], match["op"], match["arg"]
        if variables.get(name):
            return variables[name]
        if op == ":-":
            return arg
        if op == ":?":
            raise MissingVariable(f"{name}: {arg}")
        return ""

    return _VARIABLE.sub(replace, value)


def load_compose():
    return yaml.safe_load(COMPOSE_FILE.read_text())


def service_environment(service, variables):
    environment = load_compose()["services"][service]["environment"]
    return {key: interpolate(str(value), variables) for key, value in environment.items()}
