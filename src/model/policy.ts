/** IAM policy document shapes this tool writes. Only Allow statements are ever produced. */
export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow';
  /** Resource policies only: who the statement allows (the consumer role). */
  Principal?: { AWS: string | string[] };
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}
