import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayNotEmpty, ArrayUnique, IsArray, IsBoolean, IsIn, IsString, Length, Matches } from 'class-validator';
import { IsOmittable } from '../http/omittable.validator';
import { CLIENT_ID, CLIENT_ID_MAX_LENGTH } from '@stagecraft/opportunity';
import { KEY_NAME, KEY_NAME_RULE, KEY_NAME_TRIMMED, KEY_NAME_TRIMMED_RULE } from './api-key.credentials';
import { ROLES, type Role } from './roles';
import { TEAMS_MAX } from './principal';

export class CreateApiKeyDto {
  @ApiProperty({ description: 'Who uses the key (recorded as the actor of what it does)', example: 'billing-service' })
  @IsString()
  @Length(1, 100)
  // Recorded as the actor, listed by the CLI and written into logs (api-key.credentials.ts).
  @Matches(KEY_NAME, { message: KEY_NAME_RULE })
  @Matches(KEY_NAME_TRIMMED, { message: KEY_NAME_TRIMMED_RULE })
  name!: string;

  @ApiProperty({ enum: ROLES, isArray: true, example: ['writer'] })
  @IsArray()
  @ArrayNotEmpty()
  @IsIn(ROLES, { each: true })
  @ArrayUnique({ message: 'roles must not name a role twice' })
  roles!: Role[];

  // Left out means every team: null must not mean it too (IsOptional would take null as left out).
  @ApiPropertyOptional({ description: 'Teams the key is limited to; absent: every team', example: ['direct'] })
  @IsOmittable()
  @IsArray()
  @ArrayMaxSize(TEAMS_MAX)
  @IsString({ each: true })
  // A team a deal can have (its teamId's rule): a key limited to "Direct team" or "🙂" could never see one.
  @Length(1, CLIENT_ID_MAX_LENGTH, { each: true, message: `each team id must be 1 to ${CLIENT_ID_MAX_LENGTH} characters` })
  @Matches(CLIENT_ID, { each: true, message: 'each team id must be an id: letters, digits, ".", "_", ":", "@" or "-"' })
  teams?: string[];

  @ApiPropertyOptional({ description: 'May name the person it acts for (X-Actor)', default: false })
  @IsOmittable()
  @IsBoolean()
  mayActOnBehalf?: boolean;
}
