/**
 * Interface VPC endpoints, so functions in subnets with no internet route reach Secrets
 * Manager (the database secret) and SES (the report) without a NAT gateway. Each endpoint
 * costs about $0.01 per hour per availability zone plus $0.01 per GB.
 */
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';

export interface ServiceEndpointsProps {
  /** The VPC the functions run in. */
  readonly vpc: ec2.IVpc;
  /** The functions' subnets; one endpoint network interface goes in each of their zones. */
  readonly subnets: ec2.SubnetSelection;
  /** Who may use the endpoints (the functions, secret rotation). */
  readonly clients: ec2.IConnectable[];
  /**
   * Also create the SES endpoint (only the report function needs it).
   * @default true
   */
  readonly ses?: boolean;
}

/** Secrets Manager and SES endpoints with private DNS, open only to the functions. */
export class ServiceEndpoints extends Construct {
  public readonly secretsManager: ec2.InterfaceVpcEndpoint;
  public readonly ses?: ec2.InterfaceVpcEndpoint;

  constructor(scope: Construct, id: string, props: ServiceEndpointsProps) {
    super(scope, id);
    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'fifo-ledger interface endpoints: HTTPS from the functions only',
      allowAllOutbound: false,
    });
    const endpoint = (name: string, service: ec2.InterfaceVpcEndpointAwsService) => {
      const created = new ec2.InterfaceVpcEndpoint(this, name, {
        vpc: props.vpc,
        service,
        subnets: { ...props.subnets, onePerAz: true },
        privateDnsEnabled: true,
        // Not open to the whole VPC CIDR (an imported VPC has none): only the functions.
        open: false,
        securityGroups: [securityGroup],
      });
      for (const client of props.clients)
        created.connections.allowDefaultPortFrom(client, 'HTTPS from fifo-ledger');
      return created;
    };
    this.secretsManager = endpoint('SecretsManager', ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER);
    if (props.ses ?? true) this.ses = endpoint('Ses', ec2.InterfaceVpcEndpointAwsService.EMAIL);
  }
}
