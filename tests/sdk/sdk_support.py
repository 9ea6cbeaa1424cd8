"""What the SDK scripts share: a connection as an automation suite makes one, and JSON read
into the SDK's own types and back."""

import json

import requests
from vmware.vapi.bindings.converter import RestConverter, TypeConverter
from vmware.vapi.data.serializers.cleanjson import DataValueConverter
from vmware.vapi.lib.connect import get_requests_connector
from vmware.vapi.security.user_password import create_user_password_security_context
from vmware.vapi.stdlib.client.factories import StubConfigurationFactory

from vcf.nsx import model_client


def configuration(base_url, user, password):
    """The stub configuration every client of the SDK is made with: REST, Basic credentials,
    and no proxy or CA bundle from the environment."""
    session = requests.Session()
    session.trust_env = False
    connector = get_requests_connector(session=session, msg_protocol="rest", url=base_url)
    connector.set_security_context(create_user_password_security_context(user, password))
    return StubConfigurationFactory.new_std_configuration(connector)


def model(type_name, body):
    """An SDK struct of `type_name` built from JSON, as the SDK itself reads an answer."""
    cls = getattr(model_client, type_name)
    data = DataValueConverter.convert_to_data_value(json.dumps(body))
    return TypeConverter.convert_to_python(
        data, cls.get_binding_type(), rest_converter_mode=RestConverter.SWAGGER_REST)


def as_json(struct):
    return json.loads(struct.to_json())
